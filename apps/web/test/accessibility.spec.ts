// The whole console's accessibility, in the browser against the whole stack: axe-core finds no
// serious or critical violation on any page (signed out and signed in, at desktop width and at
// 375 px, light and dark); every page is reached and used with the keyboard only (the skip link,
// the nav, logging in, creating and deleting an alert), focus lands where a reader expects it and
// is visible; and the rate flashes stop for readers who ask for reduced motion.
import { CONSOLE_PAGES } from '@ratewire/contracts/console';
import type { StackUser } from '@ratewire/testkit/stack';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { axeViolations } from './axe.ts';
import { openConsole } from './browser.ts';
import { startConsoleStack, type ConsoleStack } from './console-stack.ts';
import { signIn } from './sign-in.ts';

const PAGES = CONSOLE_PAGES;

let cs: ConsoleStack;
let user: StackUser;

/** Opens `path` in place and waits until its page has loaded (heading, data, no "Loading…"). */
async function settle(page: Page, title: string): Promise<void> {
  await page.locator('main h1', { hasText: title }).waitFor();
  await page.waitForLoadState('networkidle');
  await expect
    .poll(() => page.locator('main').evaluate((m) => /Loading[^.…]*…/.test(m.textContent ?? '')), { timeout: 10_000 })
    .toBe(false);
  await page.waitForTimeout(300);
}

async function scan(
  browser: Browser,
  label: string,
  options: { viewport: { width: number; height: number }; signedIn: boolean; dark?: boolean },
): Promise<string[]> {
  const c = await openConsole(browser, `${cs.stack.url}/`, { viewport: options.viewport });
  const serious: string[] = [];
  try {
    if (options.dark) await c.page.emulateMedia({ colorScheme: 'dark' });
    if (options.signedIn) await signIn(c.page, user);
    for (const p of PAGES) {
      await c.page.goto(`${cs.stack.url}${p.path}`);
      await settle(c.page, p.title);
      // nothing wider than the screen: wide tables scroll in their own box
      const overflow = await c.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 0) serious.push(`${label} ${p.path}: the page is ${overflow} px wider than the screen`);
      const violations = await axeViolations(c.page);
      for (const v of violations) {
        const line = `${label} ${p.path}: [${v.impact}] ${v.id} — ${v.help}: ${v.nodes
          .slice(0, 5)
          .map((n) => n.target.join(' '))
          .join(', ')}${v.nodes.length > 5 ? ` (+${v.nodes.length - 5} more)` : ''}`;
        if (v.impact === 'serious' || v.impact === 'critical') serious.push(line);
        else console.log(`axe (not serious): ${line}`);
      }
    }
    console.log(`axe ${label}: ${PAGES.length} pages, ${serious.length} serious or critical`);
  } finally {
    await c.close();
  }
  return serious;
}

/** What has focus: tag, id, name, and whether its focus is visibly drawn. */
function focused(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { tag: 'body', id: '', text: '', label: '', visible: false, cls: '' };
    const style = getComputedStyle(el);
    const outlined = style.outlineStyle !== 'none' && style.outlineWidth !== '0px';
    const ringed = style.boxShadow !== 'none';
    const labelOf = (e: Element) =>
      (e as HTMLInputElement).labels?.[0]?.textContent?.trim() ?? e.getAttribute('aria-label') ?? '';
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      text: (el.textContent ?? '').trim(),
      label: labelOf(el),
      visible: outlined || ringed,
      cls: el.className,
    };
  });
}

type Focused = Awaited<ReturnType<typeof focused>>;

/** Presses Tab (or Shift+Tab) until `want` has focus; every stop on the way must show its focus. */
async function tabTo(page: Page, want: (f: Focused) => boolean, backwards = false, max = 60): Promise<Focused> {
  const invisible: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
    const f = await focused(page);
    if (f.tag !== 'body' && !f.visible) invisible.push(`${f.tag}#${f.id}.${f.cls} "${f.text.slice(0, 40)}"`);
    if (want(f)) {
      expect(invisible, 'focus is visible at every Tab stop').toEqual([]);
      return f;
    }
  }
  throw new Error(`Tab never reached the element wanted (stops without visible focus: ${invisible.join('; ')})`);
}

const link = (name: string) => (f: Focused) => f.tag === 'a' && f.text === name;
const field = (label: string) => (f: Focused) => ['input', 'select', 'textarea'].includes(f.tag) && f.label === label;

async function expectPageOpened(page: Page, title: string): Promise<void> {
  await expect.poll(() => page.title()).toBe(`${title} · Ratewire`);
  await expect.poll(() => focused(page).then((f) => `${f.tag} ${f.text}`)).toBe(`h1 ${title}`);
}

beforeAll(async () => {
  cs = await startConsoleStack();
  user = await cs.stack.user();
  // an alert with a firing, so the signed-in Alerts page shows its table and firings
  const headers = { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' };
  const res = await fetch(`${cs.stack.url}/api/v1/alerts`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      source: 'binance',
      symbol: 'BTCUSDT',
      condition: { type: 'above', level: '1' },
      channels: ['ws'],
    }),
  });
  if (res.status !== 201) throw new Error(`create alert: HTTP ${res.status} ${await res.text()}`);
}, 120_000);
afterAll(async () => {
  await cs?.close();
});

describe('axe-core on every page', () => {
  it.each([
    { label: 'signed out, 1280×900', viewport: { width: 1280, height: 900 }, signedIn: false },
    { label: 'signed in, 1280×900', viewport: { width: 1280, height: 900 }, signedIn: true },
    { label: 'signed out, 375×740', viewport: { width: 375, height: 740 }, signedIn: false },
    { label: 'signed in, 375×740', viewport: { width: 375, height: 740 }, signedIn: true },
    { label: 'signed in, dark, 1280×900', viewport: { width: 1280, height: 900 }, signedIn: true, dark: true },
  ])(
    'finds nothing serious or critical: $label',
    async (o) => {
      expect(await scan(cs.browser, o.label, o)).toEqual([]);
    },
    120_000,
  );
});

describe('the keyboard alone', () => {
  it('reaches the skip link first, and it moves focus to the content', async () => {
    const c = await openConsole(cs.browser, `${cs.stack.url}/`);
    try {
      await c.page.locator('main h1').waitFor();
      await c.page.keyboard.press('Tab');
      const first = await focused(c.page);
      expect(first.text).toBe('Skip to content');
      expect(first.visible).toBe(true);
      expect(await c.page.locator('.skip-link').boundingBox()).toMatchObject({ y: expect.any(Number) });
      expect((await c.page.locator('.skip-link').boundingBox())!.y).toBeGreaterThanOrEqual(0);
      await c.page.keyboard.press('Enter');
      await expect.poll(() => focused(c.page).then((f) => f.id)).toBe('main');
      // the next Tab goes into the content, not back to the header
      await c.page.keyboard.press('Tab');
      const next = await c.page.evaluate(() => !!document.activeElement?.closest('main, .toasts'));
      expect(next).toBe(true);
      expect(c.problems).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('opens every page from the nav: its heading gets focus and the title follows', async () => {
    const c = await openConsole(cs.browser, `${cs.stack.url}/`);
    try {
      await settle(c.page, 'Markets');
      const order = ['Charts', 'Convert', 'Jobs', 'Alerts', 'Markets'] as const;
      let backwards = false;
      for (const title of order) {
        await tabTo(c.page, link(title), backwards);
        await c.page.keyboard.press('Enter');
        await expectPageOpened(c.page, title);
        expect(new URL(c.page.url()).pathname).toBe(PAGES.find((p) => p.title === title)!.path);
        backwards = true; // from the heading, the nav is behind
      }
      // the account link, at the header's end
      await tabTo(c.page, link('Log in'), true);
      await c.page.keyboard.press('Enter');
      await expectPageOpened(c.page, 'Account');
      expect(c.problems).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('logs in on the Account page, then creates and deletes an alert', async () => {
    const other = await cs.stack.user();
    const c = await openConsole(cs.browser, `${cs.stack.url}/account`);
    const { page } = c;
    try {
      await settle(page, 'Account');
      await tabTo(page, field('Email'));
      await page.keyboard.type(other.email);
      await tabTo(page, field('Password'));
      await page.keyboard.type(other.password);
      await page.keyboard.press('Enter');
      await page.locator('.account-link', { hasText: other.email }).waitFor();

      // to the Alerts page through the nav
      await tabTo(page, link('Alerts'), true, 120);
      await page.keyboard.press('Enter');
      await expectPageOpened(page, 'Alerts');
      await page.getByRole('heading', { name: 'Your alerts' }).waitFor();

      await tabTo(page, field('Symbol'));
      await page.keyboard.type('BTCUSDT');
      const condition = await tabTo(page, field('Condition'));
      expect(condition.tag).toBe('select');
      // a select changes with the arrow keys: Below a level, then back to Above a level
      await page.keyboard.press('ArrowDown');
      await expect.poll(() => page.locator('#alert-type').inputValue()).toBe('below');
      await page.keyboard.press('ArrowUp');
      await expect.poll(() => page.locator('#alert-type').inputValue()).toBe('above');
      await tabTo(page, field('Level'));
      await page.keyboard.type('1000000');
      // a checkbox toggles with Space
      await tabTo(page, (f) => f.id === 'alert-channel-email');
      await page.keyboard.press('Space');
      expect(await page.locator('#alert-channel-email').isChecked()).toBe(true);
      await page.keyboard.press('Space');
      expect(await page.locator('#alert-channel-email').isChecked()).toBe(false);
      await tabTo(page, (f) => f.tag === 'button' && f.text === 'Create alert');
      await page.keyboard.press('Enter');
      const name = 'BTCUSDT above 1,000,000';
      await page
        .getByRole('status')
        .filter({ hasText: `Created ${name}.` })
        .waitFor();
      const row = page.locator('.alerts-table tbody tr', { hasText: name });
      await expect.poll(() => row.getAttribute('data-status')).toBe('active');

      // delete it: the dialog takes focus, Escape keeps the alert and gives focus back
      await tabTo(page, (f) => f.tag === 'button' && f.text === `Delete ${name}`);
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Delete this alert?' });
      await dialog.waitFor();
      await expect.poll(() => focused(page).then((f) => f.text)).toBe('Cancel');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      await expect.poll(() => focused(page).then((f) => f.text)).toBe(`Delete ${name}`);
      await page.keyboard.press('Enter');
      await dialog.waitFor();
      await page.keyboard.press('Tab');
      expect((await focused(page)).text).toBe('Delete alert');
      await page.keyboard.press('Enter');
      await page
        .getByRole('status')
        .filter({ hasText: `Deleted ${name}.` })
        .waitFor();
      await expect.poll(() => row.count()).toBe(0);
      expect(c.problems).toEqual([]);
    } finally {
      await c.close();
    }
  }, 60_000);
});

describe('reduced motion', () => {
  it('stops the flash of a changed rate for readers who ask for less motion', async () => {
    const names: Record<string, string> = {};
    for (const motion of ['reduce', 'no-preference'] as const) {
      const c = await openConsole(cs.browser, `${cs.stack.url}/`, { reducedMotion: motion });
      try {
        await c.page.locator('main h1').waitFor();
        names[motion] = await c.page.evaluate(() => {
          const cell = document.createElement('td');
          cell.className = 'flash-up';
          cell.textContent = '1.23';
          const table = document.createElement('table');
          table.appendChild(document.createElement('tr')).appendChild(cell);
          document.querySelector('main')!.appendChild(table);
          return getComputedStyle(cell).animationName;
        });
      } finally {
        await c.close();
      }
    }
    expect(names).toEqual({ reduce: 'none', 'no-preference': 'flash-up' });
  });
});
