// Every `machi` subcommand, in the order `machi help` lists them.
import { allCommand } from './all.ts';
import type { Command } from './command.ts';
import { configCommand } from './config.ts';
import { demoCommand } from './demo.ts';
import { stackCommand } from './stack.ts';

export const commands: Command[] = [configCommand, stackCommand, allCommand, demoCommand];
