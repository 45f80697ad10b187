// Password checks (scrypt on niced worker threads) a few at a time, for MQTT and HTTP logins alike.

/**
 * Runs at most `concurrency` jobs at once and queues at most `maxQueued` more; `run` returns
 * undefined when the queue is full (the caller refuses: server unavailable). A job whose `stillWanted`
 * says no once its turn comes (its client left, or was banned meanwhile) is skipped.
 */
export class CappedQueue {
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  run<T>(job: () => Promise<T>, stillWanted: () => boolean): Promise<T | 'skipped'> | undefined {
    if (this.running >= this.concurrency && this.queue.length >= this.maxQueued) return undefined;
    return new Promise((resolve, reject) => {
      const start = () => {
        if (!stillWanted()) {
          resolve('skipped');
          this.next();
          return;
        }
        this.running++;
        job()
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.next();
          });
      };
      if (this.running < this.concurrency) start();
      else this.queue.push(start);
    });
  }

  private next(): void {
    while (this.running < this.concurrency && this.queue.length > 0) (this.queue.shift() as () => void)();
  }
}
