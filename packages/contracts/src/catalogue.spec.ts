import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import {
  CALLBACK_CATALOGUE,
  SUBJECT_CATALOGUE,
  SUMMARY_MAX,
  WS_CHANNEL_CATALOGUE,
  WS_CLIENT_OPS,
  WS_SERVER_FRAMES,
  catalogueEntryForChannel,
  catalogueEntryForEvent,
  catalogueEntryForSubject,
  compactJson,
  subjectMatches,
  summariseCallbackBody,
  summariseEvent,
  type CatalogueMessage,
} from './catalogue.ts';
import { REDIS_NOTIFICATIONS, SUBJECTS } from './events.schemas.ts';
import { WS_CHANNEL_RE, WS_DEFAULT_CHANNELS, wsChannel } from './ws.schemas.ts';

const replies = SUBJECT_CATALOGUE.flatMap((s) => (s.reply ? [s.reply] : []));
const wsEvents = WS_CHANNEL_CATALOGUE.flatMap((c) => c.events);
/** Every message of the catalogue, once per id. */
const messages: CatalogueMessage[] = [
  ...new Map(
    [...SUBJECT_CATALOGUE, ...replies, ...wsEvents, ...WS_CLIENT_OPS, ...WS_SERVER_FRAMES, ...CALLBACK_CATALOGUE].map(
      (m) => [m.id, m],
    ),
  ).values(),
];

function summaryOf(m: CatalogueMessage): string {
  const parsed = m.schema.safeParse(m.example);
  if (!parsed.success) throw new Error(`${m.id}: ${parsed.error.message}`);
  return m.summary(parsed.data);
}

/** What the summary of each message's example must say: its key fields. */
const SUMMARY_MENTIONS: Record<string, string[]> = {
  ratesCbrUpdated: ['USD', '80.1234', '2026-12-01', '+1 more'],
  ratesBinanceUpdated: ['BTCUSDT', '97000.01', '+3 more'],
  ratesBinanceSymbolUpdated: ['BTCUSDT', '97000.01', '96990.50'],
  currenciesCreated: ['AED', '21.8155', 'created'],
  currenciesUpdated: ['USD', '80.1234', 'updated'],
  currenciesDeleted: ['USD', 'deleted', '12'],
  currenciesInbound: ['rates_update', 'USD', '80.1234', '+1 more'],
  currenciesInboundForwarded: ['rates_update', 'USD', '80.1234', '+1 more'],
  tasksRatesRefresh: ['7c9e6679', 'done'],
  taskProgress: ['7c9e6679', 'running', '50%'],
  taskProgressFollowed: ['celery-report-2026-12', 'running', 'PROGRESS', '30%'],
  redisNotifications: ['celery-report-2026-12', 'running', '30%'],
  ratesCbrFetchDay: ['2026-11-28'],
  ratesCbrFetchDayReply: ['2026-11-28', '2026-11-27'],
  jobsSubmit: ['1f6b2c3d', 'submitted'],
  jobProgress: ['1f6b2c3d', 'running', '40%'],
  jobsCompleted: ['1f6b2c3d', 'done', '8305.00 RUB', 'order-42'],
  jobsFailed: ['1f6b2c3d', 'failed', 'no CBR rate for XYZ'],
  callbackDelivered: ['1f6b2c3d', 'delivered', 'HTTP 204', '1 attempt'],
  callbackFailed: ['1f6b2c3d', 'failed', '8 attempts', 'ECONNREFUSED'],
  alertsTriggered: ['3a4b5c6d', 'BTCUSDT', 'crosses_above 97000', '97000.01'],
  jobResultCallback: ['order-42', 'denomination 1', '3775.5 RUB', '+1 more'],
  alertTriggeredCallback: ['3a4b5c6d', 'BTCUSDT', 'crosses_above 97000', '97000.01'],
  wsSubscribe: ['subscribe', 'rates.binance:BTCUSDT', '1764581400000-0'],
  wsUnsubscribe: ['unsubscribe', 'rates.binance:BTCUSDT'],
  wsAuth: ['auth'],
  wsPing: ['ping'],
  wsWelcome: ['welcome'],
  wsSubscribed: ['subscribed', 'rates.binance:BTCUSDT'],
  wsAuthenticated: ['5a2f8c1e-3b4d-4e6f-9a7b-8c9d0e1f2a3b'],
  wsEvent: ['rates.binance:BTCUSDT', 'rates.binance.updated', '1764581400000-0'],
  wsReset: ['rates.cbr', 'history_truncated'],
  wsError: ['forbidden'],
  wsPong: ['pong'],
};

describe('the event catalogue', () => {
  it.each(messages.map((m) => [m.id, m] as const))('%s: its example passes its schema', (_id, m) => {
    const parsed = m.schema.safeParse(m.example);
    expect(parsed.error?.issues).toBeUndefined();
    expect(parsed.success).toBe(true);
  });

  it('gives each message its own id, and the same id only to the same message', () => {
    const all = [...SUBJECT_CATALOGUE, ...replies, ...wsEvents, ...WS_CLIENT_OPS, ...WS_SERVER_FRAMES];
    for (const m of all) {
      const first = messages.find((x) => x.id === m.id)!;
      expect(m.schema, m.id).toBe(first.schema);
      expect(m.example, m.id).toEqual(first.example);
    }
    expect(new Set(SUBJECT_CATALOGUE.map((s) => s.id)).size).toBe(SUBJECT_CATALOGUE.length);
  });

  it('has an entry for every NATS subject in SUBJECTS, and one for Redis notifications', () => {
    for (const [key, subject] of Object.entries(SUBJECTS)) {
      const entries = SUBJECT_CATALOGUE.filter(
        (e) => e.transport === 'nats' && (e.subject === subject || e.subject === `${subject}.*`),
      );
      expect(entries, key).toHaveLength(1);
    }
    expect(SUBJECT_CATALOGUE.filter((e) => e.transport === 'nats')).toHaveLength(Object.keys(SUBJECTS).length);
    expect(catalogueEntryForSubject(REDIS_NOTIFICATIONS, 'redis')?.id).toBe('redisNotifications');
    expect(catalogueEntryForSubject(REDIS_NOTIFICATIONS)).toBeUndefined();
  });

  it('has exactly one entry for every kind of channel WS_CHANNEL_RE admits', () => {
    const source = WS_CHANNEL_RE.source;
    expect(source.startsWith('^(?:') && source.endsWith(')$')).toBe(true);
    const kinds = source.slice(4, -2).split('|');
    expect(kinds.length).toBeGreaterThanOrEqual(8);
    for (const kind of kinds) {
      expect(
        WS_CHANNEL_CATALOGUE.filter((c) => c.pattern.source === `^${kind}$`).map((c) => c.channel),
        kind,
      ).toHaveLength(1);
    }
    expect(WS_CHANNEL_CATALOGUE).toHaveLength(kinds.length);
  });

  it.each(WS_CHANNEL_CATALOGUE.map((c) => [c.channel, c] as const))(
    '%s: its example is a valid channel found by name, its address names its parameters',
    (_name, c) => {
      expect(wsChannel.safeParse(c.example).success).toBe(true);
      expect(catalogueEntryForChannel(c.example)).toBe(c);
      expect(catalogueEntryForChannel(c.channel)).toBe(c);
      const placeholders = [...c.address.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect(placeholders.sort()).toEqual(Object.keys(c.parameters).sort());
      for (const [name, p] of Object.entries(c.parameters)) {
        expect(c.pattern.test(c.address.replace(`{${name}}`, p.example)), name).toBe(true);
      }
      expect(c.followedByDefault).toBe((WS_DEFAULT_CHANNELS as readonly string[]).includes(c.channel));
      expect(c.events.length).toBeGreaterThan(0);
    },
  );

  it('forwards each subject to the channels whose events name it, and no others', () => {
    for (const s of SUBJECT_CATALOGUE) {
      const source = `${s.transport}:${s.subject}`;
      const carrying = WS_CHANNEL_CATALOGUE.filter((c) => c.events.some((e) => e.source === source)).map(
        (c) => c.channel,
      );
      expect(carrying.sort(), s.subject).toEqual([...s.channels].sort());
    }
    for (const e of wsEvents) {
      const [transport, name] = [e.source.slice(0, e.source.indexOf(':')), e.source.slice(e.source.indexOf(':') + 1)];
      expect(
        SUBJECT_CATALOGUE.some((s) => s.transport === transport && s.subject === name),
        e.source,
      ).toBe(true);
      // an event forwarded from NATS is named after its subject; Redis progress is job.progress / task.progress
      if (transport === 'nats') expect(e.event).toBe(name);
      else expect(['job.progress', 'task.progress']).toContain(e.event);
    }
  });

  it.each(messages.map((m) => [m.id, m] as const))(
    '%s: the summary of its example is one line that names its key fields',
    (id, m) => {
      const line = summaryOf(m);
      expect(line.trim()).not.toBe('');
      expect(line).not.toMatch(/[\r\n\u2028\u2029]/);
      expect(line.length).toBeLessThanOrEqual(SUMMARY_MAX);
      const mentions = SUMMARY_MENTIONS[id];
      expect(mentions, `add ${id} to SUMMARY_MENTIONS`).toBeDefined();
      for (const field of mentions!) expect(line).toContain(field);
    },
  );

  it('names no module but the schema files it needs (bundles that import it stay small)', () => {
    const text = readFileSync(new URL('./catalogue.ts', import.meta.url), 'utf8');
    const imported = [...text.matchAll(/^import [^;]*? from '([^']+)';/gms)].map((m) => m[1]);
    expect(imported.length).toBeGreaterThan(0);
    for (const name of imported) expect(name).toMatch(/^(zod|\.\/[a-z-]+\.schemas\.ts)$/);
  });
});

describe('catalogueEntryForSubject', () => {
  it('finds a subject, and one a wildcard entry stands for', () => {
    expect(catalogueEntryForSubject('rates.binance.updated')?.id).toBe('ratesBinanceUpdated');
    expect(catalogueEntryForSubject('tasks.rates-refresh.done')?.id).toBe('tasksRatesRefresh');
    expect(catalogueEntryForSubject('tasks.rates-refresh.requested')?.id).toBe('tasksRatesRefresh');
    expect(catalogueEntryForSubject('tasks.rates-refresh.*')?.id).toBe('tasksRatesRefresh');
  });

  it('finds nothing for a subject outside the catalogue', () => {
    expect(catalogueEntryForSubject('tasks.rates-refresh')).toBeUndefined();
    expect(catalogueEntryForSubject('tasks.rates-refresh.done.again')).toBeUndefined();
    expect(catalogueEntryForSubject('rates.binance')).toBeUndefined();
    expect(catalogueEntryForSubject('$JS.API.INFO')).toBeUndefined();
  });
});

describe('subjectMatches', () => {
  it('reads * as one token and > as the rest', () => {
    expect(subjectMatches('a.*.c', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.*', 'a.b.c')).toBe(false);
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('a.b', 'a.b.c')).toBe(false);
    expect(subjectMatches('a.b.c', 'a.b')).toBe(false);
  });
});

describe('catalogueEntryForEvent', () => {
  it('finds an event by name, and by the channel it came on where channels differ', () => {
    expect(catalogueEntryForEvent('job.progress')?.id).toBe('jobProgress');
    expect(catalogueEntryForEvent('tasks.rates-refresh.running')?.id).toBe('tasksRatesRefresh');
    expect(catalogueEntryForEvent('task.progress', 'tasks')?.id).toBe('taskProgress');
    expect(catalogueEntryForEvent('task.progress', 'tasks:celery-1')?.id).toBe('taskProgressFollowed');
    expect(catalogueEntryForEvent('rates.binance.updated', 'rates.binance')?.id).toBe('ratesBinanceUpdated');
    expect(catalogueEntryForEvent('rates.binance.updated', 'rates.binance:ETHUSDT')?.id).toBe(
      'ratesBinanceSymbolUpdated',
    );
    expect(catalogueEntryForEvent('currencies.updates', 'currencies')?.id).toBe('currenciesInboundForwarded');
  });

  it('finds nothing for an unknown event, or one the channel does not carry', () => {
    expect(catalogueEntryForEvent('nope')).toBeUndefined();
    expect(catalogueEntryForEvent('job.progress', 'rates.cbr')).toBeUndefined();
    expect(catalogueEntryForEvent('job.progress', 'no-such-channel')).toBeUndefined();
  });
});

describe('summariseEvent', () => {
  it("summarises a frame's data with the entry its event and data fit", () => {
    const symbol = { symbol: 'ETHUSDT', price: '3650.42', previous: null };
    expect(summariseEvent('rates.binance.updated', symbol)).toBe('ETHUSDT 3650.42');
    expect(summariseEvent('rates.binance.updated', symbol, 'rates.binance:ETHUSDT')).toBe('ETHUSDT 3650.42');
    const all = { ts: '2026-12-01T09:30:00.000Z', changed: [symbol] };
    expect(summariseEvent('rates.binance.updated', all, 'rates.binance')).toBe('ETHUSDT 3650.42');
    expect(
      summariseEvent('tasks.rates-refresh.failed', {
        task_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
        status: 'failed',
        detail: 'cbr: timeout\nbinance: 503',
      }),
    ).toBe('task 7c9e6679… failed: cbr: timeout binance: 503');
    expect(
      summariseEvent('task.progress', {
        task_id: 'nightly',
        status: 'done',
        status_text: 'SUCCESS',
        result: { rows: 3 },
      }),
    ).toBe('task nightly done (SUCCESS)');
  });

  it('summarises a NATS payload by its subject, inbound numbers included', () => {
    expect(summariseEvent('currencies.updates', { event: 'rates_update', rates: { CNY: 11.0523 } })).toBe(
      'rates_update CNY 11.0523',
    );
    expect(summariseEvent('jobs.exchange.submit', { job_id: '1f6b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' })).toBe(
      'job 1f6b2c3d… submitted',
    );
    expect(
      summariseEvent('jobs.exchange.completed', {
        job_id: '1f6b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
        request_id: 'r-1',
        status: 'done',
        total_rub: '3775.00',
      }),
    ).toBe('job 1f6b2c3d… done total 3775.00 RUB (request r-1)');
  });

  it('prints data that does not fit its event as compact JSON', () => {
    const wrong = { symbol: 'btc usdt', price: 97000.01 };
    expect(summariseEvent('rates.binance.updated', wrong)).toBe(JSON.stringify(wrong));
    expect(summariseEvent('something.else', { a: 1, b: ['x'] })).toBe('{"a":1,"b":["x"]}');
  });

  it('never throws, and always returns one short line', () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const garbage: unknown[] = [
      undefined,
      null,
      0,
      '',
      'text\nwith\u2028breaks',
      10n,
      { big: 10n },
      circular,
      [1, [2, [3]]],
      { job_id: 'x'.repeat(10_000) },
      'y'.repeat(10_000),
      () => 1,
      Symbol('s'),
      new Proxy(
        {},
        {
          get() {
            throw new Error('boom');
          },
        },
      ),
    ];
    for (const name of ['rates.binance.updated', 'job.progress', 'currencies.updates', 'unknown', '']) {
      for (const data of garbage) {
        const line = summariseEvent(name, data);
        expect(typeof line).toBe('string');
        expect(line).not.toMatch(/[\r\n\u2028\u2029]/);
        expect(line.length).toBeLessThanOrEqual(SUMMARY_MAX);
      }
    }
    expect(summariseEvent('unknown', 'y'.repeat(10_000))).toMatch(/^"y+…$/);
    expect(summariseEvent('unknown', { big: 10n })).toBe('{"big":"10"}');
  });

  it('keeps a summary of long fields within SUMMARY_MAX', () => {
    const line = summariseEvent('jobs.exchange.failed', {
      job_id: '1f6b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      request_id: 'r'.repeat(200),
      status: 'failed',
      error: 'e'.repeat(500),
    });
    expect(line.length).toBeLessThanOrEqual(SUMMARY_MAX);
    expect(line.startsWith('job 1f6b2c3d… failed: eee')).toBe(true);
  });
});

describe('compactJson', () => {
  it('is the JSON of a value, on one line, cut to the length asked', () => {
    expect(compactJson({ a: 'b' })).toBe('{"a":"b"}');
    expect(compactJson('x'.repeat(50), 10)).toBe('"xxxxxxxx…');
    expect(compactJson(undefined)).toBe('undefined');
  });
});

describe('summariseCallbackBody', () => {
  it('names a callback body by its kind and summarises it', () => {
    const job = summariseCallbackBody({ request_id: 'r-1', breakdown: [{ denomination_id: 3, subtotal_rub: 10.5 }] });
    expect(job).toEqual({ type: 'job.result', summary: 'request r-1: denomination 3 10.5 RUB' });
    const alert = CALLBACK_CATALOGUE.find((c) => c.type === 'alert.triggered')!;
    expect(summariseCallbackBody(alert.example)).toMatchObject({ type: 'alert.triggered' });
  });

  it('gives a body of no known kind its own type, if any, and compact JSON; never throws', () => {
    expect(summariseCallbackBody({ type: 'other.thing', x: 1 })).toEqual({
      type: 'other.thing',
      summary: '{"type":"other.thing","x":1}',
    });
    expect(summariseCallbackBody(null)).toEqual({ type: null, summary: 'null' });
    expect(summariseCallbackBody('text')).toEqual({ type: null, summary: '"text"' });
  });
});
