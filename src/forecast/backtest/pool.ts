// Runs backtest jobs on worker threads (locations are independent), or inline for one thread.
// Results arrive in completion order; the caller puts them back in location order.
import { Worker } from 'node:worker_threads';
import { type JobResult, type JobSettings, type LocationJob, runJob } from './job.ts';

// Workers do not inherit the tsx loader that bin/machi.js registers, so each registers it itself
// before loading the TypeScript entry.
const tsxApi = import.meta.resolve('tsx/esm/api');
const entry = new URL('./worker.ts', import.meta.url).href;
const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;

export async function runJobs(
  jobs: LocationJob[],
  settings: JobSettings,
  threads: number,
  onResult: (r: JobResult) => void,
): Promise<void> {
  if (threads <= 1 || jobs.length <= 1) {
    for (const job of jobs) onResult(runJob(job, settings));
    return;
  }
  // Longest series first, each worker taking the next job when it is done: the pool finishes
  // about when its busiest worker does.
  const queue = [...jobs].sort((a, b) => b.utc.length - a.utc.length);
  const workers = Array.from(
    { length: Math.min(threads, jobs.length) },
    () => new Worker(bootstrap, { eval: true, workerData: settings }),
  );
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const next = () => {
              const job = queue.shift();
              if (job) worker.postMessage(job);
              else resolve();
            };
            worker.on('message', (r: JobResult) => {
              onResult(r);
              next();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (code !== 0) reject(new Error(`backtest worker exited with code ${code}`));
            });
            next();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
