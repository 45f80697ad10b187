// Every `machi` subcommand, in the order `machi help` lists them.
import { alertsCommand } from './alerts.ts';
import { allCommand } from './all.ts';
import { brokerCommand } from './broker.ts';
import type { Command } from './command.ts';
import { configCommand } from './config.ts';
import { demoCommand } from './demo.ts';
import { devicesCommand } from './devices.ts';
import { forecastCommand } from './forecast.ts';
import { loadCommand } from './load.ts';
import { recordCommand } from './record.ts';
import { replayCommand } from './replay.ts';
import { signsCommand } from './signs.ts';
import { simulateCommand } from './simulate.ts';
import { stackCommand } from './stack.ts';
import { usersCommand } from './users.ts';
import { workerCommand } from './worker.ts';

export const commands: Command[] = [
  configCommand,
  stackCommand,
  brokerCommand,
  devicesCommand,
  usersCommand,
  signsCommand,
  workerCommand,
  alertsCommand,
  forecastCommand,
  simulateCommand,
  recordCommand,
  replayCommand,
  loadCommand,
  allCommand,
  demoCommand,
];
