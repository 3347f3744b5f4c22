// The browser the console's tests drive: Debian's Chromium through playwright-core (nothing is
// downloaded), headless, with the flags of packages/testkit/src/chromium.ts, and a fresh profile.
// Each page records the console errors and failed requests it met, so a test can assert there were none.
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@ratewire/testkit/chromium';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] });
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Console errors, page errors and CSP violations seen so far. */
  problems: string[];
  close(): Promise<void>;
}

/** A new browser context (its own cookies) with one page at `url`. */
export async function openConsole(
  browser: Browser,
  url: string,
  options: { viewport?: { width: number; height: number }; reducedMotion?: 'reduce' | 'no-preference' } = {},
): Promise<ConsolePage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    reducedMotion: options.reducedMotion ?? 'reduce',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  await page.goto(url);
  return { context, page, problems, close: () => context.close() };
}
