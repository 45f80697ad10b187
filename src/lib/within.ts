// Waiting with a bound. A stop that waits on someone else (Kafka, a client's socket, a library's
// close) must not hold the process forever: past the bound the caller logs it and goes on.

/** True when `work` settled within `ms`, false when the time ran out first; a rejection is thrown. */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
