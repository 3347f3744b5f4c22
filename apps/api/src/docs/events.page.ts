// GET /docs/events: the AsyncAPI document (/asyncapi.json) rendered on the server as one plain HTML
// page — every NATS subject, the Redis channel and every WebSocket channel, with its messages, their
// payload schemas and examples. No script (the api's CSP allows none inline); every text is escaped.
import type { AsyncApiDocument } from '@ratewire/contracts/asyncapi';

type Json = Record<string, unknown>;

export const EVENTS_PAGE_CSS = `body{font:15px/1.5 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:2.5rem;border-bottom:1px solid #ddd}h3{font-size:1.1rem;margin:2rem 0 .25rem}
h4{font-size:1rem;margin:1.25rem 0 .25rem}code{font:13px/1.4 ui-monospace,monospace;background:#f3f3f3;padding:0 .2rem}
pre{font:12px/1.4 ui-monospace,monospace;background:#f7f7f7;border:1px solid #e3e3e3;padding:.6rem;overflow:auto;max-height:28rem}
pre code{background:none;padding:0}.muted{color:#5f6368}.tag{font-size:12px;border:1px solid #c4c7c5;border-radius:3px;padding:0 .3rem;margin-right:.3rem}
section.channel{border-left:3px solid #0b57d0;padding-left:1rem}section.message{margin-left:.5rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
h3 code{font-size:1rem}nav ul ul{columns:3;margin-bottom:.5rem}a{color:#0b57d0}summary{cursor:pointer}`;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Escaped text with `code` and **strong** spans (the little Markdown the document's descriptions use). */
const prose = (s: string) =>
  escapeHtml(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');

const SCHEMA_REF = /&quot;#\/components\/schemas\/([A-Za-z0-9_.-]+)&quot;/g;

/** Pretty JSON, escaped, its references to shared schemas linked to them. */
const json = (value: unknown) =>
  `<pre><code>${escapeHtml(JSON.stringify(value, null, 2) ?? 'null').replace(
    SCHEMA_REF,
    (_, name: string) => `&quot;<a href="#schema-${name}">#/components/schemas/${name}</a>&quot;`,
  )}</code></pre>`;

const anchor = (prefix: string, key: string) => `${prefix}-${key.replace(/[^A-Za-z0-9_-]/g, '-')}`;

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** `{$ref: '#/a/b/c'}` → the object it names in `doc` (`{}` when there is none). */
function resolve(doc: AsyncApiDocument, value: unknown): Json {
  const ref = str(obj(value).$ref);
  if (!ref.startsWith('#/')) return obj(value);
  let at: unknown = doc;
  for (const part of ref.slice(2).split('/')) at = obj(at)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  return obj(at);
}

function messageHtml(doc: AsyncApiDocument, key: string, ref: unknown): string {
  const m = resolve(doc, ref);
  const examples = arr(m.examples).map((e) => {
    const example = obj(e);
    const summary = str(example.summary);
    return (
      `<p><strong>Example</strong>${summary ? ` <span class="muted">— summarised as</span> <code>${escapeHtml(summary)}</code>` : ''}</p>` +
      json(example.payload)
    );
  });
  return (
    `<section class="message" id="${anchor('message', key)}">` +
    `<h4><code>${escapeHtml(str(m.name) || key)}</code> ${escapeHtml(str(m.title))}</h4>` +
    (m.summary ? `<p>${prose(str(m.summary))}</p>` : '') +
    `<details><summary>Payload schema</summary>${json(m.payload)}</details>` +
    examples.join('') +
    `</section>`
  );
}

function channelHtml(doc: AsyncApiDocument, key: string, channel: Json): string {
  const address = channel.address === null ? '(the reply subject of the request)' : str(channel.address);
  const servers = arr(channel.servers).map((s) => str(obj(s).$ref).split('/').pop() ?? '');
  const operations = Object.values(doc.operations).filter((op) => str(obj(op.channel).$ref) === `#/channels/${key}`);
  const actions = [...new Set(operations.map((op) => (op.action === 'send' ? 'Ratewire sends' : 'Ratewire receives')))];
  const parameters = Object.entries(obj(channel.parameters));
  const parametersHtml = parameters.length
    ? `<table><tr><th>parameter</th><th>meaning</th><th>values</th></tr>${parameters
        .map(([name, p]) => {
          const values = [...arr(obj(p).enum), ...arr(obj(p).examples)].map(
            (v) => `<code>${escapeHtml(String(v))}</code>`,
          );
          return `<tr><td><code>{${escapeHtml(name)}}</code></td><td>${prose(str(obj(p).description))}</td><td>${values.join(' ')}</td></tr>`;
        })
        .join('')}</table>`
    : '';
  const messages = Object.entries(obj(channel.messages)).map(([id, ref]) => messageHtml(doc, `${key}-${id}`, ref));
  return (
    `<section class="channel" id="${anchor('channel', key)}">` +
    `<h3><code>${escapeHtml(address)}</code></h3>` +
    `<p>${servers.map((s) => `<span class="tag">${escapeHtml(s)}</span>`).join('')}` +
    `${actions.map((a) => `<span class="tag">${escapeHtml(a)}</span>`).join('')}${escapeHtml(str(channel.title))}</p>` +
    (channel.description ? `<p>${prose(str(channel.description))}</p>` : '') +
    parametersHtml +
    messages.join('') +
    `</section>`
  );
}

const GROUPS = [
  { server: 'nats', title: 'NATS subjects' },
  { server: 'redis', title: 'Redis pub/sub' },
  { server: 'ws', title: 'WebSocket' },
] as const;

const serverOf = (channel: Json) =>
  str(obj(arr(channel.servers)[0]).$ref)
    .split('/')
    .pop() ?? '';

/** Paragraphs, and `- ` lines as one list. */
function descriptionHtml(text: string): string {
  const lines = text.split('\n');
  const items = lines.filter((l) => l.startsWith('- ')).map((l) => `<li>${prose(l.slice(2))}</li>`);
  const paragraphs = lines.filter((l) => !l.startsWith('- ') && l.trim()).map((l) => `<p>${prose(l)}</p>`);
  return paragraphs.join('') + (items.length ? `<ul>${items.join('')}</ul>` : '');
}

export function renderEventsPage(doc: AsyncApiDocument): string {
  const channels = Object.entries(doc.channels);
  const groups = GROUPS.map((g) => ({ ...g, channels: channels.filter(([, c]) => serverOf(c) === g.server) }));
  const nav = groups
    .map(
      (g) =>
        `<li><a href="#${g.server}">${escapeHtml(g.title)}</a><ul>${g.channels
          .filter(([, c]) => c.address !== null)
          .map(
            ([key, c]) =>
              `<li><a href="#${anchor('channel', key)}"><code>${escapeHtml(str(c.address))}</code></a></li>`,
          )
          .join('')}</ul></li>`,
    )
    .join('');
  const servers = Object.entries(doc.servers)
    .map(
      ([name, s]) =>
        `<tr><td><code>${escapeHtml(name)}</code></td><td>${escapeHtml(str(s.protocol))}</td>` +
        `<td><code>${escapeHtml(str(s.host))}</code></td><td>${prose(str(s.description))}</td></tr>`,
    )
    .join('');
  const sections = groups
    .map(
      (g) =>
        `<h2 id="${g.server}">${escapeHtml(g.title)}</h2>` +
        g.channels.map(([key, c]) => channelHtml(doc, key, c)).join(''),
    )
    .join('');
  const schemas = Object.entries(doc.components.schemas)
    .map(([name, s]) => `<h4 id="schema-${escapeHtml(name)}"><code>${escapeHtml(name)}</code></h4>${json(s)}`)
    .join('');
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(doc.info.title)} · Ratewire</title><link rel="stylesheet" href="/docs/events.css"></head>` +
    `<body><main><h1>${escapeHtml(doc.info.title)} <span class="muted">${escapeHtml(doc.info.version)}</span></h1>` +
    `<p>The event catalogue: AsyncAPI ${escapeHtml(doc.asyncapi)} document <a href="/asyncapi.json">/asyncapi.json</a>, ` +
    `generated from the zod contracts; the REST API is at <a href="/docs">/docs</a>.</p>` +
    descriptionHtml(doc.info.description) +
    `<table><tr><th>server</th><th>protocol</th><th>host</th><th></th></tr>${servers}</table>` +
    `<nav><h2>Contents</h2><ul>${nav}<li><a href="#schemas">Shared schemas</a></li></ul></nav>` +
    sections +
    `<h2 id="schemas">Shared schemas</h2>${schemas}` +
    `</main></body></html>`
  );
}
