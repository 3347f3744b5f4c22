// The AsyncAPI 3.0 document of the platform's events, generated from the event catalogue (every
// NATS subject, the Redis progress channel, every WebSocket channel, and the /ws protocol itself):
// payload JSON Schema from the zod contracts, the shared schemas under components.schemas, and each
// message's example. The api serves it at /asyncapi.json. Pure: no I/O.
import {
  SUBJECT_CATALOGUE,
  WS_CHANNEL_CATALOGUE,
  WS_CLIENT_OPS,
  WS_SERVER_FRAMES,
  type CatalogueMessage,
  type WsChannelEntry,
} from './catalogue.ts';
import { toJsonSchema, type JsonSchema } from './json-schema.ts';

export interface AsyncApiOptions {
  /** info.version (the api's version). */
  version?: string;
  /** The api's public origin (`https://rates.example`): the host of the ws server. */
  serverUrl?: string;
}

type Ref = { $ref: string };
type Json = Record<string, unknown>;

export interface AsyncApiDocument {
  asyncapi: '3.0.0';
  info: { title: string; version: string; description: string };
  defaultContentType: 'application/json';
  servers: Record<string, Json>;
  channels: Record<string, Json>;
  operations: Record<string, Json>;
  components: { schemas: Record<string, JsonSchema>; messages: Record<string, Json> };
}

const DESCRIPTION = [
  'Everything the platform publishes or accepts as messages, generated from the zod contracts of ' +
    '`@ratewire/contracts` (the same schemas publishers build with and consumers validate with).',
  '- **NATS** subjects: JSON payloads; operators follow them all with `nats sub ">"`. Rates and money are ' +
    'decimal strings.',
  '- **Redis** pub/sub `notifications`: job and task progress, ours and outside workers’.',
  '- **WebSocket** `/ws`: a client sends ops (subscribe, unsubscribe, auth, ping) and receives frames. Each ' +
    'channel below (`currencies`, `rates.binance:{symbol}`, …) is subscribed over `/ws`; an event on it arrives ' +
    'as `{"type":"event","channel","id","event","data","ts"}`, where `event` is the message name and `data` ' +
    'its payload as described here.',
].join('\n');

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const ref = ($ref: string): Ref => ({ $ref });
const channelKey = (c: WsChannelEntry) =>
  `ws${c.channel
    .replace(/<[^>]+>/g, (m) => m.slice(1, -1).toLowerCase())
    .split(/[^A-Za-z0-9]+/)
    .map(capital)
    .join('')}`;

function wsServer(serverUrl: string | undefined): Json {
  const description = 'The api: WebSocket endpoint /ws on its HTTP port.';
  if (serverUrl) {
    const url = new URL(serverUrl);
    return { host: url.host, protocol: url.protocol === 'https:' ? 'wss' : 'ws', description };
  }
  return {
    host: '{host}',
    protocol: 'ws',
    description,
    variables: { host: { default: 'localhost:8000', description: 'The api host and port' } },
  };
}

/** The example of a message as its summary prints it (an example that does not parse: none). */
function exampleSummary(m: CatalogueMessage): string | undefined {
  const parsed = m.schema.safeParse(m.example);
  return parsed.success ? m.summary(parsed.data) : undefined;
}

export function asyncApiDocument(options: AsyncApiOptions = {}): AsyncApiDocument {
  const schemas: Record<string, JsonSchema> = {};
  const messages: Record<string, Json> = {};
  const channels: Record<string, Json> = {};
  const operations: Record<string, Json> = {};

  /** The component of `m` (once per id), and a reference to it. */
  function component(m: CatalogueMessage, name: string): Ref {
    if (!messages[m.id]) {
      const summary = exampleSummary(m);
      messages[m.id] = {
        name,
        title: m.title,
        summary: m.description,
        contentType: 'application/json',
        payload: toJsonSchema(m.schema, m.io, schemas),
        examples: [{ name: 'example', ...(summary ? { summary } : {}), payload: m.example }],
      };
    }
    return ref(`#/components/messages/${m.id}`);
  }

  function channel(key: string, body: Json, list: { m: CatalogueMessage; name: string }[]) {
    channels[key] = { ...body, messages: Object.fromEntries(list.map(({ m, name }) => [m.id, component(m, name)])) };
    return list.map(({ m }) => ref(`#/channels/${key}/messages/${m.id}`));
  }

  function operation(key: string, body: Json) {
    operations[key] = body;
  }

  // ---- NATS subjects and the Redis channel
  for (const e of SUBJECT_CATALOGUE) {
    const server = e.transport === 'nats' ? 'nats' : 'redis';
    const address = e.token ? e.subject.replace('*', `{${e.token.name}}`) : e.subject;
    const notes = [
      e.description,
      `Published by ${e.publishers}; read by ${e.consumers}.`,
      e.stream ? `Kept by the JetStream stream ${e.stream}.` : '',
      e.channels.length
        ? `Forwarded to WebSocket channel${e.channels.length > 1 ? 's' : ''} ${e.channels.join(', ')}.`
        : '',
    ];
    const refs = channel(
      e.id,
      {
        address,
        title: e.title,
        description: notes.filter(Boolean).join(' '),
        servers: [ref(`#/servers/${server}`)],
        ...(e.token
          ? { parameters: { [e.token.name]: { enum: [...e.token.values], description: e.token.description } } }
          : {}),
      },
      [{ m: e, name: e.subject }],
    );
    let reply: Json | undefined;
    if (e.reply) {
      const replyKey = `${e.id}Reply`;
      const replyRefs = channel(
        replyKey,
        {
          address: null,
          title: e.reply.title,
          description: `The reply to ${e.subject}, on the request's reply subject (an inbox).`,
          servers: [ref(`#/servers/${server}`)],
        },
        [{ m: e.reply, name: `${e.subject} reply` }],
      );
      reply = { channel: ref(`#/channels/${replyKey}`), messages: replyRefs };
    }
    const actions = e.direction === 'out' ? ['send'] : e.direction === 'in' ? ['receive'] : ['send', 'receive'];
    for (const action of actions) {
      operation(`${action}${capital(e.id)}`, {
        action,
        channel: ref(`#/channels/${e.id}`),
        title: `${action === 'send' ? 'Publish' : 'Read'} ${e.subject}`,
        summary: e.title,
        messages: refs,
        ...(reply ? { reply } : {}),
      });
    }
  }

  // ---- the /ws protocol
  const opRefs = channel(
    'ws',
    {
      address: '/ws',
      title: 'WebSocket /ws',
      description:
        'Text frames of JSON. A socket that sends nothing follows currencies and rates.cbr until it subscribes ' +
        'itself; `since` replays what a client missed from a channel’s capped history, in order, without gaps.',
      servers: [ref('#/servers/ws')],
    },
    [...WS_CLIENT_OPS, ...WS_SERVER_FRAMES].map((m) => ({ m, name: m.title })),
  );
  operation('receiveWsClientOps', {
    action: 'receive',
    channel: ref('#/channels/ws'),
    title: 'Client ops',
    summary: 'What a client sends on /ws',
    messages: opRefs.slice(0, WS_CLIENT_OPS.length),
  });
  operation('sendWsServerFrames', {
    action: 'send',
    channel: ref('#/channels/ws'),
    title: 'Server frames',
    summary: 'What the server sends on /ws',
    messages: opRefs.slice(WS_CLIENT_OPS.length),
  });

  // ---- WebSocket channels
  for (const c of WS_CHANNEL_CATALOGUE) {
    const key = channelKey(c);
    const parameters = Object.fromEntries(
      Object.entries(c.parameters).map(([name, p]) => [name, { description: p.description, examples: [p.example] }]),
    );
    const refs = channel(
      key,
      {
        address: c.address,
        title: c.channel,
        description:
          `${c.description} Subscribe over /ws; access: ${c.access}.` +
          (c.followedByDefault ? ' Followed by a socket that never subscribed.' : ''),
        servers: [ref('#/servers/ws')],
        ...(Object.keys(parameters).length ? { parameters } : {}),
      },
      c.events.map((m) => ({ m, name: m.event })),
    );
    operation(`send${capital(key)}`, {
      action: 'send',
      channel: ref(`#/channels/${key}`),
      title: `Events on ${c.channel}`,
      summary: c.events.map((e) => e.event).join(', '),
      messages: refs,
    });
  }

  return {
    asyncapi: '3.0.0',
    info: { title: 'Ratewire events', version: options.version ?? '1.0.0', description: DESCRIPTION },
    defaultContentType: 'application/json',
    servers: {
      nats: {
        host: '{host}',
        protocol: 'nats',
        description: 'NATS with JetStream (the deployment’s NATS_URL).',
        variables: { host: { default: 'localhost:4222', description: 'The NATS host and port' } },
      },
      ws: wsServer(options.serverUrl),
      redis: {
        host: '{host}',
        protocol: 'redis',
        description: 'Redis pub/sub (the deployment’s REDIS_URL).',
        variables: { host: { default: 'localhost:6379', description: 'The Redis host and port' } },
      },
    },
    channels,
    operations,
    components: { schemas, messages },
  };
}
