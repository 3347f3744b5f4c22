// The stack the console's tests use: the whole service (api, worker, notifier as processes over
// their own database, Redis and NATS, the feed replay server, an SMTP mailbox), the api serving the
// console's build, and a browser. Binance is polled every second (the shortest interval the worker allows) so a price scripted at the
// replay server reaches the table as it would in production, through the worker, NATS, the notifier
// and /ws.
import { startStack, type Stack, type StackOptions } from '@ratewire/testkit/stack';
import type { Browser } from 'playwright-core';

import { launchBrowser } from './browser.ts';

export interface ConsoleStack {
  stack: Stack;
  browser: Browser;
  close(): Promise<void>;
}

export async function startConsoleStack(options: StackOptions = {}): Promise<ConsoleStack> {
  const [stack, browser] = await Promise.all([
    startStack({ ...options, env: { BINANCE_POLL_INTERVAL_MS: '1000', ...options.env } }),
    launchBrowser(),
  ]);
  return {
    stack,
    browser,
    async close() {
      await browser.close();
      await stack.close();
    },
  };
}
