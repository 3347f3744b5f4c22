// GET /asyncapi.json (the AsyncAPI 3 document of every NATS subject and WebSocket channel, generated
// from the event catalogue) and GET /docs/events (the same document as a page).
import { Parser } from '@asyncapi/parser';
import { SUBJECTS } from '@ratewire/contracts';
import { asyncApiDocument, type AsyncApiDocument } from '@ratewire/contracts/asyncapi';
import {
  SUBJECT_CATALOGUE,
  WS_CHANNEL_CATALOGUE,
  WS_CLIENT_OPS,
  WS_SERVER_FRAMES,
} from '@ratewire/contracts/catalogue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { API_VERSION } from '../src/compose.ts';
import { startTestApi, type TestApi } from './harness.ts';

type Json = Record<string, unknown>;

let t: TestApi;
let doc: AsyncApiDocument;
beforeAll(async () => {
  t = await startTestApi();
  doc = (await (await fetch(`${t.url}/asyncapi.json`)).json()) as AsyncApiDocument;
});
afterAll(() => t?.close());

/** Every `$ref` string in `value`, with where it sits. */
function refsIn(value: unknown, at = '#'): { at: string; ref: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => refsIn(v, `${at}/${i}`));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value as Json).flatMap(([k, v]) =>
    k === '$ref' && typeof v === 'string' ? [{ at, ref: v }] : refsIn(v, `${at}/${k}`),
  );
}

function resolve(ref: string): unknown {
  let node: unknown = doc;
  for (const part of ref.replace(/^#\//, '').split('/')) {
    node = node && typeof node === 'object' ? (node as Json)[part] : undefined;
  }
  return node;
}

/** A message's payload as a standalone JSON Schema: the shared schemas as its $defs. */
function standalone(payload: unknown): Json {
  const local = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll('"#/components/schemas/', '"#/$defs/')) as Json;
  return { ...local(payload), $defs: local(doc.components.schemas) };
}

const messages = () => Object.entries(doc.components.messages) as [string, Json][];
const catalogued = [
  ...SUBJECT_CATALOGUE,
  ...SUBJECT_CATALOGUE.flatMap((s) => (s.reply ? [s.reply] : [])),
  ...WS_CHANNEL_CATALOGUE.flatMap((c) => c.events),
  ...WS_CLIENT_OPS,
  ...WS_SERVER_FRAMES,
];

describe('GET /asyncapi.json', () => {
  it('answers 200 JSON: an AsyncAPI 3.0.0 document of the api version, the one the contracts generate', async () => {
    const res = await fetch(`${t.url}/asyncapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as AsyncApiDocument;
    expect(body.asyncapi).toBe('3.0.0');
    expect(body.info.version).toBe(API_VERSION);
    expect(body).toEqual(JSON.parse(JSON.stringify(asyncApiDocument({ version: API_VERSION }))));
    expect(Object.keys(body.servers).sort()).toEqual(['nats', 'redis', 'ws']);
  });

  it('passes the AsyncAPI parser (the 3.0.0 schema and its rules) with no error or warning', async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    const problems = diagnostics
      .filter((d) => (d.severity as number) <= 1) // 0 error, 1 warning (2 information, 3 hint)
      .map((d) => `${d.code} ${d.path.join('/')}: ${d.message}`);
    expect(problems).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.version()).toBe('3.0.0');
    expect(document!.channels().length).toBe(Object.keys(doc.channels).length);
    expect(document!.components().messages().length).toBe(Object.keys(doc.components.messages).length);
  });

  it('has a channel for every NATS subject, every WebSocket channel and /ws itself', () => {
    const addresses = (server: string) =>
      Object.values(doc.channels)
        .filter((c) => (c.servers as { $ref: string }[]).some((s) => s.$ref === `#/servers/${server}`))
        .map((c) => c.address);
    const nats = addresses('nats');
    for (const subject of Object.values(SUBJECTS)) {
      expect(
        nats.some((a) => a === subject || (typeof a === 'string' && a.startsWith(`${subject}.{`))),
        subject,
      ).toBe(true);
    }
    expect(nats).toContain('tasks.rates-refresh.{step}');
    const ws = addresses('ws');
    for (const address of [
      '/ws',
      'currencies',
      'rates.cbr',
      'rates.binance',
      'rates.binance:{symbol}',
      'tasks',
      'tasks:{task_id}',
      'jobs:{job_id}',
      'alerts:{user_id}',
    ]) {
      expect(ws).toContain(address);
    }
    expect(addresses('redis')).toEqual(['notifications']);
  });

  it('resolves every $ref inside the document', () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(50);
    for (const { at, ref } of refs) {
      expect(ref.startsWith('#/'), at).toBe(true);
      expect(resolve(ref), `${at} → ${ref}`).toBeTypeOf('object');
    }
  });

  it("has each operation send or receive only its own channel's messages", () => {
    for (const [id, op] of Object.entries(doc.operations)) {
      expect(['send', 'receive'], id).toContain(op.action);
      const channel = (op.channel as { $ref: string }).$ref;
      const refs = op.messages as { $ref: string }[];
      expect(refs.length, id).toBeGreaterThan(0);
      for (const { $ref } of refs) expect($ref.startsWith(`${channel}/messages/`), `${id}: ${$ref}`).toBe(true);
    }
    const described = new Set(Object.values(doc.operations).map((op) => (op.channel as { $ref: string }).$ref));
    for (const [key, channel] of Object.entries(doc.channels)) {
      if (channel.address !== null) expect(described.has(`#/channels/${key}`), key).toBe(true);
    }
  });

  it('describes every {parameter} of a channel address, and no other', () => {
    for (const [key, channel] of Object.entries(doc.channels)) {
      const address = typeof channel.address === 'string' ? channel.address : '';
      const named = [...address.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      expect(Object.keys((channel.parameters ?? {}) as Json).sort(), key).toEqual(named);
    }
  });

  it('gives every message an example its own payload JSON Schema accepts', () => {
    expect(messages().length).toBe(new Set(catalogued.map((m) => m.id)).size);
    for (const [id, message] of messages()) {
      const examples = message.examples as { payload: unknown }[];
      expect(examples.length, id).toBeGreaterThan(0);
      const schema = z.fromJSONSchema(standalone(message.payload));
      for (const { payload } of examples) {
        const parsed = schema.safeParse(payload);
        expect(parsed.error?.issues, id).toBeUndefined();
      }
    }
  });

  it('has payload JSON Schemas that refuse an example missing a required field', () => {
    let checked = 0;
    for (const [id, message] of messages()) {
      const json = standalone(message.payload);
      const root = (
        typeof json.$ref === 'string' ? resolve(json.$ref.replace('#/$defs/', '#/components/schemas/')) : json
      ) as Json;
      const required = root.required as string[] | undefined;
      const example = (message.examples as { payload: Json }[])[0]!.payload;
      if (!required?.length || typeof example !== 'object') continue;
      const { [required[0]!]: _dropped, ...rest } = example;
      const schema = z.fromJSONSchema(json);
      expect(schema.safeParse(rest).success, `${id} without ${required[0]}`).toBe(false);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('gives every message an example the contract schema of its catalogue entry accepts', () => {
    for (const [id, message] of messages()) {
      const entry = catalogued.find((m) => m.id === id);
      expect(entry, id).toBeDefined();
      const example = (message.examples as { payload: unknown }[])[0]!.payload;
      expect(entry!.schema.safeParse(example).success, id).toBe(true);
    }
  });
});

describe('GET /docs/events', () => {
  it('answers 200 HTML naming every subject and channel, linking the document, with no script', async () => {
    const res = await fetch(`${t.url}/docs/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await res.text();
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).toContain('href="/asyncapi.json"');
    for (const subject of Object.values(SUBJECTS)) expect(html, subject).toContain(`<code>${subject}`);
    for (const c of WS_CHANNEL_CATALOGUE) expect(html, c.channel).toContain(`<code>${c.address}</code>`);
    expect(html).toContain('<code>notifications</code>');
  });

  it('shows each message with its payload schema and example, every text escaped', async () => {
    const html = await (await fetch(`${t.url}/docs/events`)).text();
    expect(html).toContain('BTCUSDT 97000.01 (+3 more)');
    expect(html).toContain('&quot;rates_update&quot;');
    expect(html).toContain('Payload schema');
    // the error frame's example names the channel jobs:<job_id>: it is shown, not parsed as a tag
    expect(html).toContain('jobs:&lt;job_id&gt; is for its owner and admins');
    expect(html).not.toContain('<job_id>');
    const stylesheet = await fetch(`${t.url}/docs/events.css`);
    expect(stylesheet.status).toBe(200);
    expect(stylesheet.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('is linked from the Swagger page', async () => {
    const html = await (await fetch(`${t.url}/docs`)).text();
    expect(html).toContain('href="/docs/events"');
    expect(html).toContain('href="/asyncapi.json"');
  });
});
