import { describe, expect, it } from 'vitest';

import { framesForNotification, framesForSubject } from '../src/frames.ts';

const job = '0b7f2c52-8a3e-4c51-9d0e-4f6a1f3e2b10';
const task = '6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b';

describe('framesForSubject', () => {
  it('names rates.cbr.updated after channel rates.cbr', () => {
    const payload = {
      date: '2026-11-24',
      changed: [{ code: 'USD', value: '80.5', nominal: 1, unit_rate: '80.5', previous: null }],
    };
    expect(framesForSubject('rates.cbr.updated', JSON.stringify(payload))).toEqual({
      ok: true,
      frames: [{ channel: 'rates.cbr', event: 'rates.cbr.updated', data: payload }],
    });
  });

  it('sends rates.binance.updated to rates.binance and to each changed symbol', () => {
    const changed = [
      { symbol: 'BTCUSDT', price: '65000.1', previous: '64000' },
      { symbol: 'ETHUSDT', price: '3100', previous: null },
    ];
    const result = framesForSubject('rates.binance.updated', JSON.stringify({ ts: '2026-11-24T10:00:00Z', changed }));
    expect(result.ok && result.frames.map((f) => [f.channel, f.data])).toEqual([
      ['rates.binance', { ts: '2026-11-24T10:00:00Z', changed }],
      ['rates.binance:BTCUSDT', changed[0]],
      ['rates.binance:ETHUSDT', changed[1]],
    ]);
  });

  it('forwards inbound currencies.updates with exact decimal strings', () => {
    const result = framesForSubject(
      'currencies.updates',
      '{"event":"rates_update","rates":{"USD":80.0,"EUR":"90.125","JPY":1e-7}}',
    );
    expect(result).toEqual({
      ok: true,
      frames: [
        {
          channel: 'currencies',
          event: 'currencies.updates',
          data: { event: 'rates_update', rates: { USD: '80', EUR: '90.125', JPY: '0.0000001' } },
        },
      ],
    });
  });

  it('forwards an inbound rate a double cannot hold digit for digit', () => {
    const result = framesForSubject(
      'currencies.updates',
      '{"event":"rates_update","rates":{"USD":80.12345678901234567891}}',
    );
    expect(result.ok && result.frames[0]?.data).toEqual({
      event: 'rates_update',
      rates: { USD: '80.12345678901234567891' },
    });
  });

  it.each([
    ['not JSON', '{"event":', /not JSON/],
    ['a wrong event name', '{"event":"other","rates":{"USD":1}}', /event/],
    ['lower-case codes', '{"event":"rates_update","rates":{"usd":1}}', /rates\.usd/],
    ['no rates', '{"event":"rates_update","rates":{}}', /1 to 500 rates/],
    ['a negative rate', '{"event":"rates_update","rates":{"USD":-1}}', /rates\.USD/],
    ['a non-decimal string', '{"event":"rates_update","rates":{"USD":"8O"}}', /rates\.USD/],
    ['a rate of 1e308', '{"event":"rates_update","rates":{"USD":1e308}}', /rates\.USD: .*at most 30 digits/],
    ['a rate of 1e-30', '{"event":"rates_update","rates":{"USD":1e-30}}', /rates\.USD: .*20 after/],
    ['a 31-digit string', `{"event":"rates_update","rates":{"USD":"1${'0'.repeat(30)}"}}`, /rates\.USD/],
  ])('rejects an inbound update with %s, giving the reason', (_name, text, reason) => {
    const result = framesForSubject('currencies.updates', text);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it('sends currency, task and job events to their channels', () => {
    const currency = {
      id: 1,
      code: 'USD',
      name: null,
      nominal: 1,
      rate: '80',
      unit_rate: '80',
      updated_at: 'x',
      source: 'api',
    };
    expect(framesForSubject('currencies.updated', JSON.stringify(currency))).toMatchObject({
      frames: [{ channel: 'currencies', event: 'currencies.updated' }],
    });
    expect(framesForSubject('currencies.deleted', '{"id":1,"code":"USD"}')).toMatchObject({
      frames: [{ channel: 'currencies', event: 'currencies.deleted' }],
    });
    expect(
      framesForSubject('tasks.rates-refresh.done', JSON.stringify({ task_id: task, status: 'done' })),
    ).toMatchObject({
      frames: [{ channel: 'tasks', event: 'tasks.rates-refresh.done' }],
    });
    const result = { job_id: job, request_id: 'r', status: 'done', total_rub: '1.00' };
    expect(framesForSubject('jobs.exchange.completed', JSON.stringify(result))).toMatchObject({
      frames: [{ channel: `jobs:${job}`, event: 'jobs.exchange.completed' }],
    });
    const callback = { job_id: job, request_id: 'r', webhook_id: 'w', attempts: 1, status_code: 200 };
    expect(framesForSubject('jobs.exchange.callback.delivered', JSON.stringify(callback))).toMatchObject({
      frames: [{ channel: `jobs:${job}`, event: 'jobs.exchange.callback.delivered' }],
    });
  });

  it('does not bridge other subjects', () => {
    expect(framesForSubject('jobs.exchange.submit', JSON.stringify({ job_id: job }))).toMatchObject({ ok: false });
  });
});

describe('framesForNotification', () => {
  it('sends job progress to jobs:<id> as job.progress and task progress to tasks as task.progress', () => {
    expect(framesForNotification(JSON.stringify({ job_id: job, status: 'running', progress: 0.5 }))).toEqual({
      ok: true,
      frames: [
        { channel: `jobs:${job}`, event: 'job.progress', data: { job_id: job, status: 'running', progress: 0.5 } },
      ],
    });
    expect(framesForNotification(JSON.stringify({ task_id: task, status: 'queued' }))).toEqual({
      ok: true,
      frames: [{ channel: 'tasks', event: 'task.progress', data: { task_id: task, status: 'queued' } }],
    });
  });

  it('rejects a message that is neither', () => {
    expect(framesForNotification('{"status":"running"}').ok).toBe(false);
    expect(framesForNotification(JSON.stringify({ job_id: 'nope', status: 'running' })).ok).toBe(false);
    expect(framesForNotification('[]').ok).toBe(false);
  });
});
