import { createServer, type Server } from 'node:http';

import type { DependencyCheck } from '@ratewire/contracts';

export type Checks = Record<string, () => Promise<DependencyCheck>>;
/** Facts added to the /readyz body beside the checks (e.g. how a feed runs); never failing readiness. */
export type ReadinessInfo = () => Record<string, unknown>;

/**
 * A tiny health port for processes without an HTTP API (worker, notifier):
 * GET /healthz → 200 while alive; GET /readyz → 200 when every check passes, else 503.
 * Listens on loopback unless told otherwise (HEALTH_HOST). `info` adds facts to the /readyz body.
 */
export function startHealthServer(
  port: number,
  checks: Checks,
  host = '127.0.0.1',
  info?: ReadinessInfo,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path === '/readyz') {
      void runChecks(checks).then(({ ok, body }) => {
        let extra: Record<string, unknown> = {};
        try {
          extra = info?.() ?? {};
        } catch {
          // facts are reported only: readiness is the checks'
        }
        res
          .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ...extra, ...body }));
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"not found"}');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

export async function runChecks(checks: Checks) {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((n) => checks[n]!()));
  const entries = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
  const ok = results.every((r) => r.ok);
  return { ok, body: { status: ok ? 'ok' : 'unavailable', checks: entries } };
}
