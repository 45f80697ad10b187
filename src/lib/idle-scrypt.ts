// scrypt on worker threads at the lowest CPU priority (nice 19, Linux). libuv's threadpool runs
// scrypt at the event loop's own priority, so on a 2-core host a flood of bad logins (each check
// ~26 ms of a core) takes CPU from the loop that answers every device's PUBACK. Niced threads get
// only what nothing else wants: under load a check waits longer, the readings do not.
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { Fifo } from './fifo.ts';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  maxmem: number;
}

/** Plain CommonJS: the worker must start without machi's TypeScript loader. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
const { readlinkSync } = require('node:fs');
const { setPriority } = require('node:os');
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 19);
} catch {}
parentPort.on('message', ({ id, secret, salt, keylen, params }) => {
  try {
    parentPort.postMessage({ id, key: scryptSync(secret, salt, keylen, params) });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message) });
  }
});
`;

interface Job {
  id: number;
  secret: string;
  salt: Buffer;
  keylen: number;
  params: ScryptParams;
  resolve: (key: Buffer) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  job?: Job;
}

/** A few niced workers, started on first use and never keeping the process alive. */
export class IdleScrypt {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Fifo<Job>();
  private nextId = 0;

  constructor(private readonly size: number) {}

  derive(secret: string, salt: Buffer, keylen: number, params: ScryptParams): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ id: this.nextId++, secret, salt, keylen, params, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const slot =
        this.slots.find((s) => !s.job) ?? (this.slots.length < this.size ? this.spawn() : undefined);
      if (!slot) return;
      const job = this.waiting.shift() as Job;
      slot.job = job;
      slot.worker.ref();
      const { id, secret, salt, keylen, params } = job;
      slot.worker.postMessage({ id, secret, salt, keylen, params });
    }
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(WORKER_SOURCE, { eval: true }) };
    slot.worker.unref();
    slot.worker.on('message', (msg: { id: number; key?: Uint8Array; error?: string }) => {
      const job = slot.job;
      slot.job = undefined;
      slot.worker.unref();
      if (job?.id === msg.id) {
        if (msg.key) job.resolve(Buffer.from(msg.key));
        else job.reject(new Error(msg.error ?? 'scrypt failed'));
      }
      this.dispatch();
    });
    // A worker that dies takes its job with it as a failure; the next job gets a fresh worker.
    slot.worker.on('error', (err) => {
      slot.job?.reject(err);
      slot.job = undefined;
    });
    slot.worker.on('exit', () => {
      slot.job?.reject(new Error('scrypt worker exited'));
      this.slots.splice(this.slots.indexOf(slot), 1);
      this.dispatch();
    });
    this.slots.push(slot);
    return slot;
  }
}

/** The nice value of each of this process's threads (field 19 of their /proc stat; Linux). */
export function niceOfThreads(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return [];
    }
  });
}
