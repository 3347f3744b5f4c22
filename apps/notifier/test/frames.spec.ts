import { describe, expect, it } from 'vitest';

import { TASK_JSON_MAX_BYTES, TASK_TEXT_MAX, normaliseTaskStatus } from '@ratewire/contracts';

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

  it("sends alerts.triggered to the owner's alerts:<user_id> only when the alert names the ws channel", () => {
    const user = '3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a98';
    const firing = {
      type: 'alert.triggered',
      alert_id: job,
      event_id: task,
      user_id: user,
      test: false,
      source: 'binance',
      symbol: 'BTCUSDT',
      condition: { type: 'above', level: '65000' },
      observed: { value: '65000.5', previous: null, at: '2026-12-05T10:00:00.000Z' },
      channels: ['ws', 'callback'],
    };
    expect(framesForSubject('alerts.triggered', JSON.stringify(firing))).toEqual({
      ok: true,
      frames: [{ channel: `alerts:${user}`, event: 'alerts.triggered', data: firing }],
    });
    expect(framesForSubject('alerts.triggered', JSON.stringify({ ...firing, channels: ['email'] }))).toEqual({
      ok: true,
      frames: [],
    });
    expect(framesForSubject('alerts.triggered', JSON.stringify({ ...firing, user_id: 'someone' }))).toMatchObject({
      ok: false,
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
    // the frame on tasks is as it was; the one on tasks:<task_id> follows it
    expect(framesForNotification(JSON.stringify({ task_id: task, status: 'queued' }))).toEqual({
      ok: true,
      frames: [
        { channel: 'tasks', event: 'task.progress', data: { task_id: task, status: 'queued' } },
        {
          channel: `tasks:${task}`,
          event: 'task.progress',
          data: { task_id: task, status: 'queued', status_text: 'queued' },
        },
      ],
    });
  });

  it('also sends our own task progress to tasks:<task_id>, normalised, with the word kept', () => {
    expect(framesForNotification(JSON.stringify({ task_id: task, status: 'done', detail: 'cbr: 3 rates' }))).toEqual({
      ok: true,
      frames: [
        { channel: 'tasks', event: 'task.progress', data: { task_id: task, status: 'done', detail: 'cbr: 3 rates' } },
        {
          channel: `tasks:${task}`,
          event: 'task.progress',
          data: { task_id: task, status: 'done', status_text: 'done', detail: 'cbr: 3 rates' },
        },
      ],
    });
  });

  it('rejects a message that is neither', () => {
    expect(framesForNotification('{"status":"running"}').ok).toBe(false);
    expect(framesForNotification(JSON.stringify({ job_id: 'nope', status: 'running' })).ok).toBe(false);
    expect(framesForNotification('[]').ok).toBe(false);
  });
});

/** The one frame an outside task message gives (it must not reach channel `tasks`). */
function outsideFrame(message: unknown) {
  const result = framesForNotification(typeof message === 'string' ? message : JSON.stringify(message));
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  expect(result.frames).toHaveLength(1);
  const [frame] = result.frames;
  expect(frame!.event).toBe('task.progress');
  return frame!;
}

const refusal = (message: unknown) => {
  const result = framesForNotification(typeof message === 'string' ? message : JSON.stringify(message));
  return result.ok ? `accepted: ${JSON.stringify(result.frames)}` : result.reason;
};

describe('framesForNotification: task messages of outside workers (Celery)', () => {
  const celery = 'd9b1d7db-ec3c-4ae8-b8a5-1e7d2f3c4a5b';

  it('sends a Celery PENDING to tasks:<task_id> as queued, keeping the word', () => {
    expect(outsideFrame({ task_id: 'celery-abc-123', status: 'PENDING' })).toEqual({
      channel: 'tasks:celery-abc-123',
      event: 'task.progress',
      data: { task_id: 'celery-abc-123', status: 'queued', status_text: 'PENDING' },
    });
  });

  it('maps STARTED to running and a custom PROGRESS state with meta {current, total} to its fraction', () => {
    expect(outsideFrame({ task_id: celery, status: 'STARTED' }).data).toEqual({
      task_id: celery,
      status: 'running',
      status_text: 'STARTED',
    });
    expect(outsideFrame({ task_id: 'import.2026-01-01', status: 'PROGRESS', meta: { current: 3, total: 10 } })).toEqual(
      {
        channel: 'tasks:import.2026-01-01',
        event: 'task.progress',
        data: {
          task_id: 'import.2026-01-01',
          status: 'running',
          status_text: 'PROGRESS',
          progress: 0.3,
          meta: { current: 3, total: 10 },
        },
      },
    );
    // info is AsyncResult's name of it; Celery's result backend keeps the meta as the result
    expect(outsideFrame({ task_id: 'a', status: 'PROGRESS', info: { progress: 0.25 } }).data).toMatchObject({
      progress: 0.25,
      meta: { progress: 0.25 },
    });
    expect(outsideFrame({ task_id: 'a', status: 'PROGRESS', result: { current: 1, total: 4 } }).data).toMatchObject({
      status: 'running',
      progress: 0.25,
      result: { current: 1, total: 4 },
    });
    // a meta that says no fraction gives none; an explicit progress wins over the meta
    expect(
      outsideFrame({ task_id: 'a', status: 'PROGRESS', meta: { current: 11, total: 10 } }).data,
    ).not.toHaveProperty('progress');
    expect(
      outsideFrame({ task_id: 'a', status: 'PROGRESS', progress: 0.9, meta: { current: 1, total: 10 } }).data,
    ).toMatchObject({ progress: 0.9 });
  });

  it('maps SUCCESS to done with its result and date_done', () => {
    const message = {
      status: 'SUCCESS',
      result: { rates: 34, sources: ['cbr'] },
      traceback: null,
      children: [],
      date_done: '2026-11-24T10:00:00.123456+00:00',
      task_id: celery,
    };
    expect(outsideFrame(message)).toEqual({
      channel: `tasks:${celery}`,
      event: 'task.progress',
      data: {
        task_id: celery,
        status: 'done',
        status_text: 'SUCCESS',
        result: { rates: 34, sources: ['cbr'] },
        date_done: '2026-11-24T10:00:00.123456+00:00',
      },
    });
    // a task that returned None: the null result is kept
    expect(outsideFrame({ task_id: 'n', status: 'SUCCESS', result: null }).data).toEqual({
      task_id: 'n',
      status: 'done',
      status_text: 'SUCCESS',
      result: null,
    });
  });

  it('maps FAILURE to failed with the exception as detail and the traceback cut to 4000 characters', () => {
    const traceback = `Traceback (most recent call last):\n${'  File "tasks.py", line 1, in run\n'.repeat(500)}ValueError: boom`;
    const data = outsideFrame({
      task_id: 'celery-abc-123',
      status: 'FAILURE',
      result: { exc_type: 'ValueError', exc_message: ['boom'], exc_module: 'builtins' },
      traceback,
    }).data as Record<string, unknown>;
    expect(data).toMatchObject({
      status: 'failed',
      status_text: 'FAILURE',
      detail: 'ValueError: boom',
      result: { exc_type: 'ValueError', exc_message: ['boom'], exc_module: 'builtins' },
    });
    expect(data.traceback).toHaveLength(TASK_TEXT_MAX);
    expect(String(data.traceback).endsWith('…')).toBe(true);
    expect(traceback.startsWith(String(data.traceback).slice(0, -1))).toBe(true);
  });

  it('maps REVOKED to failed (the word stays in status_text)', () => {
    expect(outsideFrame({ task_id: celery, status: 'REVOKED' }).data).toEqual({
      task_id: celery,
      status: 'failed',
      status_text: 'REVOKED',
    });
  });

  it.each([
    ['PENDING', 'queued'],
    ['queued', 'queued'],
    ['RECEIVED', 'queued'],
    ['STARTED', 'running'],
    ['in progress', 'running'],
    ['In_Progress', 'running'],
    ['in-progress', 'running'],
    ['  running  ', 'running'],
    ['PROGRESS', 'running'],
    ['RETRY', 'running'],
    ['SUCCESS', 'done'],
    ['done', 'done'],
    ['Completed', 'done'],
    ['ok', 'done'],
    ['FAILURE', 'failed'],
    ['failed', 'failed'],
    ['error', 'failed'],
    ['REVOKED', 'failed'],
    ['cancelled', 'failed'],
    ['warming up', 'unknown'],
    ['constructor', 'unknown'],
    ['ÉTAPE 2', 'unknown'],
  ])('normalises the status %j to %s', (word, status) => {
    expect(normaliseTaskStatus(word)).toBe(status);
    expect(outsideFrame({ task_id: 'w', status: word }).data).toEqual({
      task_id: 'w',
      status,
      status_text: word.trim(),
    });
  });

  it('accepts ids that are not UUIDs, up to 200 of A-Z a-z 0-9 . _ : -', () => {
    for (const id of ['1', 'celery-abc-123', 'App.Tasks:import_rates.42', 'A'.repeat(200), 'D9B1D7DB']) {
      expect(outsideFrame({ task_id: id, status: 'done' }).channel).toBe(`tasks:${id}`);
    }
  });

  it('reads progress given as a numeric string, and 0 and 1 themselves', () => {
    expect(outsideFrame({ task_id: 'p', status: 'in progress', progress: '0.5' }).data).toEqual({
      task_id: 'p',
      status: 'running',
      status_text: 'in progress',
      progress: 0.5,
    });
    expect(outsideFrame({ task_id: 'p', status: 'in progress', progress: ' 1 ' }).data).toMatchObject({ progress: 1 });
    expect(outsideFrame({ task_id: 'p', status: 'queued', progress: 0 }).data).toMatchObject({ progress: 0 });
    expect(outsideFrame({ task_id: 'p', status: 'running', progress: '2.5e-1' }).data).toMatchObject({
      progress: 0.25,
    });
    expect(outsideFrame({ task_id: 'p', status: 'running', progress: null }).data).not.toHaveProperty('progress');
  });

  it('leaves out a result or meta over 8 KB of JSON and names it in omitted; drops unknown keys', () => {
    const big = { rows: 'x'.repeat(TASK_JSON_MAX_BYTES) };
    const frame = outsideFrame({ task_id: 'big', status: 'SUCCESS', result: big, meta: big, worker: 'w1', args: [1] });
    expect(frame.data).toEqual({ task_id: 'big', status: 'done', status_text: 'SUCCESS', omitted: ['result', 'meta'] });
    expect(JSON.stringify(frame.data).length).toBeLessThan(200);
    // every field at its bound: the frame stays small
    const long = outsideFrame({
      task_id: 'b'.repeat(200),
      status: 's'.repeat(64),
      detail: 'd'.repeat(100_000),
      traceback: 't'.repeat(100_000),
      date_done: 'x'.repeat(1000),
      result: { r: 'r'.repeat(8000) },
      meta: { m: 'm'.repeat(8000) },
    });
    expect(JSON.stringify(long.data).length).toBeLessThan(2 * TASK_JSON_MAX_BYTES + 2 * TASK_TEXT_MAX + 500);
    // at worst (text JSON escapes six-fold, multi-byte JSON) it stays under the documented 70 KB
    const worst = outsideFrame({
      task_id: 'w'.repeat(200),
      status: '€'.repeat(64),
      detail: '\u0001'.repeat(100_000),
      traceback: '"'.repeat(100_000) + '\u0001'.repeat(100_000),
      date_done: '\u0001'.repeat(1000),
      result: { r: '€'.repeat(2700) },
      meta: { m: '€'.repeat(2700) },
    });
    expect(worst.data).toHaveProperty('result');
    expect(worst.data).toHaveProperty('meta');
    expect(Buffer.byteLength(JSON.stringify(worst))).toBeLessThan(70_000);
    expect(outsideFrame({ task_id: 'w', status: 'ok', result: { r: '€'.repeat(2800) } }).data).toMatchObject({
      omitted: ['result'],
    });
  });

  it('never reaches channel tasks unless it has our own shape (a UUID and one of our four words)', () => {
    for (const message of [
      { task_id: 'celery-abc-123', status: 'done' },
      { task_id: celery, status: 'SUCCESS' },
      { task_id: celery, status: 'running', progress: '0.5' },
    ]) {
      const result = framesForNotification(JSON.stringify(message));
      expect(result.ok && result.frames.map((f) => f.channel)).toEqual([`tasks:${message.task_id}`]);
    }
    // one that has our shape cannot be told from ours: it reaches tasks too, as ours always did
    const ours = framesForNotification(JSON.stringify({ task_id: celery, status: 'done' }));
    expect(ours.ok && ours.frames.map((f) => f.channel)).toEqual(['tasks', `tasks:${celery}`]);
  });

  it.each([
    ['not an object', '"done"', /./],
    ['an array', '[{"task_id":"a","status":"done"}]', /./],
    ['null', 'null', /./],
    ['not JSON', '{"task_id":"a",', /not JSON/],
    ['no task_id', { status: 'done' }, /task_id/],
    ['an empty task_id', { task_id: '', status: 'done' }, /task_id: expected a task id/],
    ['a task_id of 201 characters', { task_id: 'a'.repeat(201), status: 'done' }, /task_id/],
    ['a task_id with a space', { task_id: 'a b', status: 'done' }, /task_id/],
    ['a task_id with a slash', { task_id: 'a/b', status: 'done' }, /task_id/],
    ['a task_id with a star', { task_id: 'a*', status: 'done' }, /task_id/],
    ['a task_id with a newline', { task_id: 'a\n', status: 'done' }, /task_id/],
    ['a non-ASCII task_id', { task_id: 'tâche', status: 'done' }, /task_id/],
    ['a numeric task_id', { task_id: 42, status: 'done' }, /task_id/],
    ['no status', { task_id: 'a' }, /status/],
    ['a numeric status', { task_id: 'a', status: 3 }, /status/],
    ['an empty status', { task_id: 'a', status: '  ' }, /status/],
    ['a status of 65 characters', { task_id: 'a', status: 's'.repeat(65) }, /status/],
    ['a status with a NUL', { task_id: 'a', status: 'do\u0000ne' }, /status/],
    ['a status with a control character', { task_id: 'a', status: 'do\u0007ne' }, /status/],
    ['a status that is a lone surrogate', { task_id: 'a', status: '\ud800' }, /status/],
    ['progress above 1', { task_id: 'a', status: 'running', progress: 1.5 }, /progress/],
    ['progress below 0', { task_id: 'a', status: 'running', progress: -0.1 }, /progress/],
    ['progress "50%"', { task_id: 'a', status: 'running', progress: '50%' }, /progress/],
    ['progress "NaN"', { task_id: 'a', status: 'running', progress: 'NaN' }, /progress/],
    ['progress "Infinity"', { task_id: 'a', status: 'running', progress: 'Infinity' }, /progress/],
    ['progress ""', { task_id: 'a', status: 'running', progress: '' }, /progress/],
    ['progress true', { task_id: 'a', status: 'running', progress: true }, /progress/],
    ['progress 1e308', '{"task_id":"a","status":"running","progress":1e308}', /progress/],
    ['progress 1e999 (Infinity)', '{"task_id":"a","status":"running","progress":1e999}', /progress/],
    ['a numeric detail', { task_id: 'a', status: 'failed', detail: 500 }, /detail/],
    ['an object traceback', { task_id: 'a', status: 'failed', traceback: {} }, /traceback/],
    [
      'nesting deeper than 64',
      `{"task_id":"a","status":"done","result":${'['.repeat(70)}${']'.repeat(70)}}`,
      /nested deeper than 64/,
    ],
  ])('drops a task message with %s, giving the reason', (_name, message, reason) => {
    expect(refusal(message)).toMatch(reason);
  });
});
