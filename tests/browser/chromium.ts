// Debian's chromium (installed by scripts/setup.sh), driven by playwright-core.
import { execFileSync } from 'node:child_process';
import { type Browser, chromium, type Page } from 'playwright-core';

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

/**
 * Screenshots go to tests/artifacts/ (ignored by git), so a test run leaves the checkout clean;
 * MACHI_UPDATE_SCREENSHOTS=1 writes the README's docs/screenshots/ instead (`readme: false`: never).
 */
export async function screenshot(
  page: Page,
  name: string,
  { readme = true, fullPage = false } = {},
): Promise<void> {
  const dir =
    readme && process.env.MACHI_UPDATE_SCREENSHOTS === '1'
      ? 'docs/screenshots'
      : 'tests/artifacts/screenshots';
  await page.screenshot({ path: `${dir}/${name}.png`, fullPage });
}
