// Worker-thread entry of the backtest pool: runs the jobs it is sent, one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import { type JobSettings, type LocationJob, runJob } from './job.ts';

const settings = workerData as JobSettings;
parentPort?.on('message', (job: LocationJob) => {
  parentPort?.postMessage(runJob(job, settings));
});
