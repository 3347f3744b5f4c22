// The Account and Jobs pages in the browser, through their forms only: register, confirm by the
// mailed link (the api's own page), an API key shown once and deleted, an exchange job submitted
// from the bills editor and followed live to its exact breakdown (computed here with
// @ratewire/money), its callback delivered, a wrong password, ?next=, and a logout that leaves
// no token anywhere script can read.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { ExchangeJobView } from '@ratewire/contracts/jobs.schemas';
import { calculateExchange } from '@ratewire/money';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { groupDigits } from '../src/core/format.ts';
import { seriousViolations } from './axe.ts';
import { openConsole, type ConsolePage } from './browser.ts';
import { startConsoleStack, type ConsoleStack } from './console-stack.ts';

let cs: ConsoleStack;
let c: ConsolePage;
let receiver: Server;
let receiverUrl: string;
const received: { method: string; body: string }[] = [];
/** Every answer of 400 or more the page met. */
const failures: string[] = [];
/** The console errors with where they happened. */
const located: string[] = [];

const email = `web-${randomUUID()}@console.test`;
let password = `pw-${randomUUID()}`;
/** The console errors this file causes on purpose, each once: a job's lost answer, a wrong current password, and the login with a wrong password. */
const EXPECTED_ERRORS = [
  /^Failed to load resource: net::ERR_CONNECTION_RESET \(http:\/\/127\.0\.0\.1:\d+\/api\/v1\/exchange-jobs\)$/,
  /^Failed to load resource: the server responded with a status of 403 \(Forbidden\) \(http:\/\/127\.0\.0\.1:\d+\/api\/v1\/auth\/password\)$/,
  /^Failed to load resource: the server responded with a status of 401 \(Unauthorized\) \(http:\/\/127\.0\.0\.1:\d+\/api\/v1\/auth\/session\)$/,
];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  cs = await startConsoleStack();
  c = await openConsole(cs.browser, `${cs.stack.url}/account`);
  c.page.setDefaultTimeout(15_000);
  c.page.on('console', (msg) => {
    if (msg.type() === 'error') located.push(`${msg.text()} (${msg.location().url})`);
  });
  c.page.on('response', (res) => {
    if (res.status() >= 400) failures.push(`${res.status()} ${res.request().method()} ${new URL(res.url()).pathname}`);
  });
}, 120_000);

afterAll(async () => {
  await c?.close();
  await cs?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

/** The job as the API shows it, read with the page's own cookie. */
async function jobOverRest(page: Page, id: string): Promise<ExchangeJobView> {
  return page.evaluate(
    async (jobId) => (await fetch(`/api/v1/exchange-jobs/${jobId}`)).json() as Promise<ExchangeJobView>,
    id,
  );
}

async function fillRow(page: Page, row: number, id: string, denomination: string, count: string) {
  await page.getByLabel(`Denomination ID, row ${row}`, { exact: true }).fill(id);
  await page.getByLabel(`Denomination, row ${row}`, { exact: true }).fill(denomination);
  await page.getByLabel(`Count, row ${row}`, { exact: true }).fill(count);
}

describe('the Account page', () => {
  it('registers after a client-side check, mails a confirmation link, and shows the address confirmed', async () => {
    const { page } = c;
    await page.getByRole('tab', { name: 'Register' }).click();
    const emailField = page.getByLabel('Email', { exact: true });
    await emailField.fill('not an email');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.locator('#register-email-error').waitFor();
    expect(await page.locator('#register-email-error').textContent()).toBe('expected an email address');
    expect(await emailField.getAttribute('aria-describedby')).toContain('register-email-error');
    expect(await emailField.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#register-password-error').textContent()).toBe('at least 8 characters');
    expect(await seriousViolations(page)).toEqual([]);

    await emailField.fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByText(`We sent a confirmation link to ${email}`).waitFor();
    await page.locator('[data-confirmed="false"]').waitFor();
    expect(await page.getByRole('link', { name: email }).count()).toBe(1);

    const mail = await cs.stack.mailbox.waitFor((m) => m.to.some((a) => a.address === email), { timeoutMs: 20_000 });
    const link = /https?:\/\/\S+\/account\/confirm\?token=[\w-]+/.exec(mail.text)?.[0];
    expect(link, mail.text).toBeDefined();
    await page.goto(link!);
    await page.getByRole('button', { name: 'Confirm my address' }).click();
    await page.getByText(`${email} is confirmed`).waitFor();

    await page.goto(`${cs.stack.url}/account`);
    await page.locator('[data-confirmed="true"]').waitFor();
    expect(await page.getByText('Your address is confirmed.').count()).toBe(1);
  });

  it('creates an API key, shows it once, lists it, and deletes it after a confirmation', async () => {
    const { page } = c;
    await page.getByLabel('Name', { exact: true }).fill('price bot');
    await page.getByLabel(/^jobs — /).check();
    await page.getByRole('button', { name: 'Create the key' }).click();
    const keyField = page.getByLabel('API key', { exact: true });
    await keyField.waitFor();
    const key = await keyField.inputValue();
    expect(key).toMatch(/^rw_[\w-]+_[\w-]+$/);
    expect(await keyField.getAttribute('readonly')).not.toBeNull();
    expect(await page.getByText('it is shown only this once').count()).toBe(1);
    await page.getByRole('button', { name: 'Copy the key' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    const row = page.locator('tr', { has: page.getByRole('rowheader', { name: 'price bot' }) });
    await row.waitFor();
    const prefix = (await row.locator('code').textContent()) ?? '';
    expect(key.startsWith(`${prefix}_`)).toBe(true);
    expect(await row.textContent()).toContain('read, jobs');
    // the key works for its scopes
    const asKey = await fetch(`${cs.stack.url}/api/v1/exchange-jobs`, { headers: { 'x-api-key': key } });
    expect(asKey.status).toBe(200);

    await page.getByRole('button', { name: 'I stored the key' }).click();
    expect(await keyField.count()).toBe(0);
    await page.reload();
    await row.waitFor();
    expect(await page.content()).not.toContain(key);

    await page.getByRole('button', { name: 'Delete the key price bot' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    // a deleted key stays listed as revoked, without a Delete button
    await row.locator('.key-revoked').waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    const after = await fetch(`${cs.stack.url}/api/v1/exchange-jobs`, { headers: { 'x-api-key': key } });
    expect(after.status).toBe(401);
  });
});

describe('the account settings', () => {
  it('shows and rotates the webhook secret after a confirmation', async () => {
    const { page } = c;
    const secret = page.getByLabel('Secret', { exact: true });
    await secret.waitFor();
    expect(await secret.getAttribute('type')).toBe('password');
    await page.getByRole('button', { name: 'Show' }).click();
    expect(await secret.getAttribute('type')).toBe('text');
    const before = await secret.inputValue();
    expect(before).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'Rotate the secret' }).click();
    await page.getByRole('button', { name: 'Yes, rotate' }).click();
    await page.getByText('The secret was rotated.').waitFor();
    await expect.poll(() => secret.inputValue()).not.toBe(before);
    expect(await secret.inputValue()).toMatch(/^whsec_/);
    await page.getByText('the replaced secret still signs until').waitFor();
  });

  it('refuses a wrong current password beside its field, then changes the password', async () => {
    const { page } = c;
    const next = `pw-${randomUUID()}`;
    await page.getByLabel('Current password', { exact: true }).fill('not-the-password');
    await page.getByLabel('New password', { exact: true }).fill(next);
    await page.getByRole('button', { name: 'Change the password' }).click();
    await page.locator('#current-password-error').waitFor();
    expect(await page.locator('#current-password-error').textContent()).toBe('The current password is wrong.');
    expect(await page.getByLabel('Current password', { exact: true }).getAttribute('aria-describedby')).toContain(
      'current-password-error',
    );
    await page.getByLabel('Current password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Change the password' }).click();
    await page.getByText('The password is changed.').waitFor();
    password = next;
    // this session stays signed in
    await page.reload();
    await page.locator('[data-confirmed="true"]').waitFor();
  });
});

describe('the Jobs page', () => {
  const bills = [
    { denomination_id: 1, denomination: '100', count: 3 },
    { denomination_id: 2, denomination: '50.5', count: 7 },
    { denomination_id: 5, denomination: '0.01', count: 12345 },
  ];

  it('submits the bills editor at the CBR rate and follows the job live to its exact breakdown', async () => {
    const { page } = c;
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('heading', { name: 'New exchange job' }).waitFor();
    await fillRow(page, 1, '1', '100', '3');
    await page.getByRole('button', { name: 'Add a row' }).click();
    // the new row's first value field has the focus
    expect(
      await page.getByLabel('Denomination, row 2', { exact: true }).evaluate((el) => el === document.activeElement),
    ).toBe(true);
    await fillRow(page, 2, '2', '50.5', '1.5');
    // Enter in the last row's count adds a row (and does not submit)
    await page.getByLabel('Count, row 2', { exact: true }).press('Enter');
    await page.getByLabel('Count, row 3', { exact: true }).waitFor();
    await fillRow(page, 3, '5', '0.01', '12345');
    await page.locator('#job-currency option[value="USD"]').waitFor({ state: 'attached' });
    await page.getByLabel('Currency', { exact: true }).selectOption('USD');

    // a count that is not whole is refused here, beside its field
    await page.getByRole('button', { name: 'Submit the job' }).click();
    const count2 = page.getByLabel('Count, row 2', { exact: true });
    const error = page.locator(`#${(await count2.getAttribute('aria-describedby')) ?? 'none'}`);
    expect(await error.textContent()).toBe('expected a whole number');
    expect(await count2.getAttribute('aria-invalid')).toBe('true');
    expect(await seriousViolations(page)).toEqual([]);
    await count2.fill('7');

    const started = Date.now();
    await page.getByRole('button', { name: 'Submit the job' }).click();
    await page.waitForURL(/\/jobs\?id=[0-9a-f-]{36}$/);
    const id = new URL(page.url()).searchParams.get('id')!;
    await page.locator('progress#job-progress').waitFor();
    await page.locator('#job-status[data-status="done"]').waitFor();
    await page.locator('.breakdown .total').waitFor();
    console.log(`job ${id}: submit to breakdown shown in ${Date.now() - started} ms`);
    expect(await page.locator('progress#job-progress').getAttribute('value')).toBe('1');

    const job = await jobOverRest(page, id);
    const usd = (await (await fetch(`${cs.stack.url}/api/v1/rates/cbr/latest?symbols=USD`)).json()) as {
      rates: Record<string, { unit_rate: string }>;
    };
    expect(job.rate).toBe(usd.rates['USD']!.unit_rate);
    const expected = calculateExchange(job.rate, bills);
    expect(job.total_rub).toBe(expected.total_rub);
    expect(job.breakdown).toEqual(expected.breakdown);
    expect(await page.locator('.breakdown .total').textContent()).toBe(groupDigits(expected.total_rub));
    for (const [i, line] of expected.breakdown.entries()) {
      const shown = page.locator(`.breakdown tr[data-line="${i}"]`);
      expect(await shown.locator('th').textContent()).toBe(String(line.denomination_id));
      expect(await shown.locator('.subtotal').textContent()).toBe(groupDigits(line.subtotal_rub));
    }
    expect(await page.locator('.job-rate').textContent()).toBe(groupDigits(job.rate));
    expect(await page.locator('.job-facts .source').textContent()).toContain('CBR unit rate of USD');
    expect(await page.locator('.callback').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);

    // the list shows it; opening it again reads the finished job over REST
    await page.getByRole('link', { name: /All jobs/ }).click();
    const listed = page.locator(`tr[data-job-id="${id}"]`);
    await listed.waitFor();
    expect(await listed.textContent()).toContain('done');
    expect(await listed.textContent()).toContain(groupDigits(expected.total_rub));
    await listed.getByRole('link').click();
    await page.locator('.breakdown .total').waitFor();
    expect(await page.locator('.breakdown .total').textContent()).toBe(groupDigits(expected.total_rub));
  });

  it('submits pasted bills at an explicit rate with a callback URL and shows the callback delivered', async () => {
    const { page } = c;
    await page.getByRole('link', { name: /All jobs/ }).click();
    await page.getByText('Paste bills (CSV or JSON)').click();
    await page
      .getByLabel('Bills to paste', { exact: true })
      .fill(
        '[{"denomination_id": 1, "denomination": 100, "count": 3}, {"denomination_id": 2, "denomination": "50.5", "count": 7}, {"denomination_id": 5, "denomination": 0.01, "count": 12345}]',
      );
    await page.getByRole('button', { name: 'Use these bills' }).click();
    expect(await page.getByLabel('Denomination, row 3', { exact: true }).inputValue()).toBe('0.01');
    await page.getByLabel('An exchange rate I give').check();
    await page.getByLabel('Exchange rate (RUB per unit)').fill('92.123456789');
    await page.getByLabel('Callback URL (optional)').fill(receiverUrl);
    await page.getByRole('button', { name: 'Submit the job' }).click();
    await page.waitForURL(/\/jobs\?id=/);
    await page.locator('.callback[data-state="delivered"]').waitFor({ timeout: 30_000 });
    const expected = calculateExchange('92.123456789', bills);
    expect(await page.locator('.breakdown .total').textContent()).toBe(groupDigits(expected.total_rub));
    expect(await page.locator('.job-facts .source').textContent()).toContain('The exchange rate given with the job');
    expect(received.some((r) => r.method === 'PUT' && r.body.includes(expected.breakdown[2]!.subtotal_rub))).toBe(true);
  });
});

describe('a job sent again', () => {
  it('keeps its request id after a lost answer: the service answers the job it stored, and stores no second one', async () => {
    const { page } = c;
    const total = () =>
      page.evaluate(
        async () => ((await (await fetch('/api/v1/exchange-jobs?limit=1')).json()) as { total: number }).total,
      );
    await page.getByRole('link', { name: /All jobs/ }).click();
    const before = await total();
    // the first POST reaches the service, which stores the job, but its answer never reaches the page
    let stored: string | undefined;
    await page.route(
      (url) => url.pathname === '/api/v1/exchange-jobs',
      async (route) => {
        if (route.request().method() !== 'POST' || stored) return route.fallback();
        stored = ((await (await route.fetch()).json()) as { job_id: string }).job_id;
        await route.abort('connectionreset');
      },
    );
    await page.getByLabel('Denomination, row 1', { exact: true }).fill('10');
    await page.getByLabel('An exchange rate I give').check();
    await page.getByLabel('Exchange rate (RUB per unit)').fill('3.5');
    await page.getByRole('button', { name: 'Submit the job' }).click();
    await page.getByText(/cannot be reached/).waitFor();
    expect(stored).toBeDefined();
    await page.getByRole('button', { name: 'Submit the job' }).click();
    await page.waitForURL(/\/jobs\?id=/);
    expect(new URL(page.url()).searchParams.get('id')).toBe(stored);
    expect(await total()).toBe(before + 1);
    await page.unrouteAll();
  });
});

describe('a failed job', () => {
  it('shows a job the worker could not compute as failed, with its error', async () => {
    const { page } = c;
    const userId = await page.evaluate(
      async () => ((await (await fetch('/api/v1/auth/session')).json()) as { user: { id: string } }).user.id,
    );
    const id = await cs.stack.unprocessableJob(userId);
    await page.goto(`${cs.stack.url}/jobs?id=${id}`);
    await page.locator('#job-status[data-status="failed"]').waitFor();
    // the live frame may say failed before the job read over REST brings the error
    await expect.poll(() => page.locator('#job-status').textContent()).toMatch(/Failed: (?!reading)\S/);
    expect(await page.locator('.breakdown').count()).toBe(0);
  });
});

describe('logging out and in', () => {
  it('keeps the session token out of script, clears it on logout, and shows a wrong password', async () => {
    const { page, context } = c;
    const cookies = await context.cookies();
    const session = cookies.find((k) => k.name === 'rw_session');
    expect(session?.httpOnly).toBe(true);
    const seen = await page.evaluate(() => ({
      cookie: document.cookie,
      stored: [localStorage, sessionStorage].flatMap((s) =>
        Array.from({ length: s.length }, (_, i) => `${s.key(i)}=${s.getItem(s.key(i)!)}`),
      ),
    }));
    expect(seen.cookie).not.toContain(session!.value);
    expect(seen.cookie).not.toContain('rw_session');
    for (const item of seen.stored) expect(item).not.toContain(session!.value);

    await page.getByRole('link', { name: email }).click();
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await page.getByRole('tab', { name: 'Log in' }).waitFor();
    expect((await context.cookies()).some((k) => k.name === 'rw_session')).toBe(false);
    await page.reload();
    await page.getByRole('tab', { name: 'Log in' }).waitFor();
    await page.getByRole('link', { name: 'Log in', exact: true }).waitFor();

    // signed out, Jobs sends to the login and back
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('link', { name: 'Log in or register' }).click();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/jobs');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(`${password}-wrong`);
    await page.getByRole('button', { name: 'Log in' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Wrong email or password.' });
    await alert.waitFor();
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((u) => u.pathname === '/jobs' && u.search === '');
    await page.getByRole('heading', { name: 'New exchange job' }).waitFor();
  });

  it('fits a 375 px screen, logs out everywhere, mails a reset link, and met only the errors caused on purpose', async () => {
    const { page } = c;
    await page.setViewportSize({ width: 375, height: 800 });
    for (const path of ['/jobs', '/account']) {
      await page.goto(`${cs.stack.url}${path}`);
      await page.getByRole('heading', { level: 2 }).first().waitFor();
      const { width, wide } = await page.evaluate(() => ({
        width: document.documentElement.scrollWidth,
        // the elements that reach past the screen, for the message
        wide: [...document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > 376 && !el.parentElement?.closest('.table-wrap'))
          .map((el) => `${el.tagName.toLowerCase()}.${el.className}`)
          .slice(-5),
      }));
      expect(width, `${path}: ${wide.join(', ')}`).toBeLessThanOrEqual(375);
    }
    await page.setViewportSize({ width: 1280, height: 900 });

    // log out everywhere, then ask for a reset link
    await page.getByRole('button', { name: 'Log out everywhere' }).click();
    await page.getByRole('tab', { name: 'Log in' }).waitFor();
    expect(
      await page.evaluate(async () => ((await (await fetch('/api/v1/auth/session')).json()) as { user: unknown }).user),
    ).toBeNull();
    await page.getByRole('tab', { name: 'Forgot password' }).click();
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Send the reset link' }).click();
    await page.getByText(`If an account exists for ${email}, we sent it a link`).waitFor();
    const reset = await cs.stack.mailbox.waitFor(
      (m) => m.to.some((a) => a.address === email) && /reset-password\?token=/.test(m.text),
      { timeoutMs: 20_000 },
    );
    expect(reset.subject).toContain('Reset');
    expect(failures).toEqual(['403 POST /api/v1/auth/password', '401 POST /api/v1/auth/session']);
    expect(located.filter((p) => !EXPECTED_ERRORS.some((re) => re.test(p)))).toEqual([]);
    for (const re of EXPECTED_ERRORS) expect(located.filter((p) => re.test(p)).length, String(re)).toBe(1);
    // nothing else: no page errors, no CSP violations
    expect(c.problems.length).toBe(located.length);
  });
});
