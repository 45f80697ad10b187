// Debian's chromium (installed by scripts/setup.sh), driven by playwright-core.
import { execFileSync } from 'node:child_process';
import { type Browser, chromium } from 'playwright-core';

export function launchChromium(): Promise<Browser> {
  const executablePath = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
