// Baselines for the HTTP benchmark, each in a process of its own and serving the very bytes our api
// serves: `express` is a minimal Express 5 app (the framework's own ceiling), `bare` a node:http
// server (the runtime's). Usage: node baseline-server.ts <express|bare> <port> <route=file>...
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import express from 'express';

const [kind, portText, ...pairs] = process.argv.slice(2);
const routes = new Map(
  pairs.map((pair) => {
    const i = pair.indexOf('=');
    return [pair.slice(0, i), readFileSync(pair.slice(i + 1))] as const;
  }),
);
const port = Number(portText);

if (kind === 'express') {
  const app = express();
  for (const [path, body] of routes) {
    app.get(path, (_req, res) => {
      res.type('application/json').send(body);
    });
  }
  app.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
} else if (kind === 'bare') {
  const headers = new Map(
    [...routes].map(([path, body]) => [
      path,
      { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length },
    ]),
  );
  const server = createServer((req, res) => {
    const body = routes.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, headers.get(req.url ?? ''));
    res.end(body);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
} else {
  process.stderr.write(`unknown baseline ${kind}\n`);
  process.exit(2);
}
