// `tail`: one NATS connection, a subscription per subject; every message is printed, whatever it holds.
import { summariseEvent } from '@ratewire/contracts/catalogue';

import type { Action } from '../core/command.ts';
import { CliError, EXIT, usageError } from '../core/exit-codes.ts';
import { clock, cut, oneLine, paint, parseCount, readPayload } from './lines.ts';

/** The NATS that `npm start` runs, as the default --url is the api it runs. */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:54222';
/** A subject or a pattern: dot-separated tokens, no blanks; `>` only as the last. */
const SUBJECT_RE = /^(?:[^\s.*>]+|\*)(?:\.(?:[^\s.*>]+|\*))*(?:\.>)?$|^>$/;

export const tail: Action = async (ctx, [list], opts) => {
  const subjects = Array.isArray(list) && list.length > 0 ? list.map(String) : ['>'];
  for (const s of subjects)
    if (!SUBJECT_RE.test(s))
      throw usageError(
        `${JSON.stringify(s)} is not a NATS subject`,
        'tokens separated by dots, `*` for any one token, `>` at the end for the rest',
      );
  const count = parseCount(opts['count']);
  const server = (typeof opts['server'] === 'string' && opts['server']) || ctx.io.env['NATS_URL'] || DEFAULT_NATS_URL;
  const raw = opts['raw'] === true;
  // nats is CommonJS: its exports are the module's default both bundled and run from source
  const loaded = await import('nats');
  const { connect, Events } = loaded.default;
  let nc: Awaited<ReturnType<typeof connect>>;
  try {
    nc = await connect({ servers: server, name: 'ratewire-tail', maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  } catch (err) {
    throw new CliError(
      `cannot reach NATS at ${server}: ${(err as Error).message}`,
      EXIT.error,
      'point at the server with --server or NATS_URL',
    );
  }
  const decoder = new TextDecoder();
  let seen = 0;
  const stop = () => void nc.close();
  ctx.io.signal.addEventListener('abort', stop, { once: true });
  const print = (subject: string, payload: Uint8Array) => {
    if (count !== undefined && seen >= count) return;
    seen++;
    const text = decoder.decode(payload);
    const time = new Date().toISOString();
    if (raw) ctx.print(text);
    else {
      const read = readPayload(text);
      if (ctx.json) ctx.print(JSON.stringify(read ? { time, subject, data: read.exact } : { time, subject, text }));
      else {
        const summary = read ? summariseEvent(subject, read.summary) : `(not JSON) ${text}`;
        const line = `${paint(ctx.colour, '2', clock(time))}  ${paint(ctx.colour, '36', oneLine(subject))}`;
        ctx.print(`${line}  ${cut(oneLine(summary))}`);
      }
    }
    if (count !== undefined && seen >= count) stop();
  };
  for (const subject of subjects) {
    nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) ctx.say(`subscription ${subject}: ${err.message}`);
        else print(msg.subject, msg.data);
      },
    });
  }
  void (async () => {
    for await (const s of nc.status()) {
      const where = typeof s.data === 'string' ? s.data : server;
      if (s.type === Events.Disconnect) ctx.say(`disconnected from ${where}; reconnecting`);
      else if (s.type === Events.Reconnect) ctx.say(`reconnected to ${where}`);
    }
  })().catch(() => undefined);
  await nc.flush();
  ctx.say(`following ${subjects.join(' ')} on ${server}`);
  const closed = await nc.closed();
  ctx.io.signal.removeEventListener('abort', stop);
  if (closed) throw new CliError(`NATS connection ended: ${closed.message}`);
  if (ctx.io.signal.aborted && (count === undefined || seen < count)) return EXIT.interrupted;
  return EXIT.ok;
};
