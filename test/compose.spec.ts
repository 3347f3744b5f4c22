// Shape of the container deployment: docker-compose.yml, the Dockerfile and the infra/ files they mount.
// No Docker engine is needed: the files are parsed and checked against each other and against the
// workspace (package.json scripts, source paths), so a rename on one side fails here first.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Healthcheck {
  test?: string | string[];
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; args?: Record<string, string> };
  command?: string | string[];
  working_dir?: string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | { target?: number; published?: string | number })[];
  volumes?: string[];
  healthcheck?: Healthcheck;
  depends_on?: string[] | Record<string, { condition?: string }>;
  restart?: string;
  container_name?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}
interface PackageJson {
  packageManager?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
}

// Compose merges `<<:` keys (YAML 1.1), which the yaml package only does when asked.
const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const nginxConf = stripComments(read('infra/nginx/nginx.conf'));
const natsConf = stripComments(read('infra/nats/nats.conf'));
const dockerfile = read('Dockerfile');

const APPS = ['api', 'worker', 'notifier'] as const;
const INFRA = ['postgres', 'redis', 'nats'] as const;
const REQUIRED = [...INFRA, 'migrate', 'api', 'nginx', 'worker', 'notifier'];

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

function packageJson(dir: string): PackageJson {
  return JSON.parse(read(join(dir, 'package.json'))) as PackageJson;
}

function environment(s: Service): Record<string, string> {
  const raw = s.environment ?? {};
  const entries = Array.isArray(raw)
    ? raw.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const)
    : Object.entries(raw).map(([k, v]) => [k, v === null ? '' : String(v)] as const);
  return Object.fromEntries(entries);
}

/** Compose interpolation with the file's own defaults: `${X:-d}` → d, `${X:?msg}` → a stand-in value. */
function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) =>
    op === '-' ? (arg ?? '') : `<${name}>`,
  );
}

function commandLine(s: Service): string {
  return Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? '');
}

function healthcheckCommand(s: Service): string {
  const test = s.healthcheck?.test;
  return Array.isArray(test) ? test.join(' ') : (test ?? '');
}

function buildArgs(s: Service): Record<string, string> {
  return typeof s.build === 'object' ? (s.build.args ?? {}) : {};
}

function dependencies(s: Service): Record<string, string | undefined> {
  const deps = s.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition]));
}

/** Container path → repository path: the Dockerfile keeps the pruned workspace at /app. */
function repoPath(containerPath: string): string {
  expect(containerPath.startsWith('/app/')).toBe(true);
  return containerPath.slice('/app/'.length);
}

function stripComments(text: string): string {
  return text.replace(/(^|\s)#.*$/gm, '$1');
}

/** The body of the first `<head> { ... }` block in an nginx config, braces balanced. */
function block(conf: string, head: RegExp): string {
  const match = head.exec(conf);
  if (!match) throw new Error(`no block matching ${String(head)}`);
  const open = conf.indexOf('{', match.index);
  let depth = 0;
  for (let i = open; i < conf.length; i++) {
    if (conf[i] === '{') depth++;
    if (conf[i] === '}' && --depth === 0) return conf.slice(open + 1, i);
  }
  throw new Error(`unbalanced block ${String(head)}`);
}

/** Every `location ... { ... }` block that proxies somewhere. */
function proxiedLocations(conf: string): { path: string; body: string }[] {
  const found: { path: string; body: string }[] = [];
  for (const m of conf.matchAll(/location\s+(?:=\s*)?(\S+)\s*\{/g)) {
    const body = block(conf.slice(m.index), /location[^{]*/);
    if (/proxy_pass\s/.test(body)) found.push({ path: m[1]!, body });
  }
  return found;
}

function seconds(duration: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(duration);
  if (!m) throw new Error(`not an nginx duration: ${duration}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] ?? 's'] ?? 1;
  return Number(m[1]) * unit;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

describe('docker-compose.yml', () => {
  it('defines the infrastructure, the one-shot migrate, the apps and nginx', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(REQUIRED));
  });

  it('gives every long-running service a healthcheck', () => {
    for (const name of Object.keys(compose.services).filter((n) => n !== 'migrate')) {
      const hc = service(name).healthcheck;
      expect(hc?.disable ?? false, `${name} healthcheck disabled`).toBe(false);
      expect(healthcheckCommand(service(name)), `${name} healthcheck`).toMatch(/^CMD(-SHELL)? \S/);
    }
  });

  it('runs migrate once: no healthcheck to wait on and no restart', () => {
    const migrate = service('migrate');
    expect(migrate.healthcheck).toBeUndefined();
    expect(instructions(dockerfile).map((i) => i.op)).not.toContain('HEALTHCHECK');
    expect(migrate.restart).toBe('no');
  });

  it('orders start-up with depends_on conditions, waiting only on services that report health', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(Array.isArray(s.depends_on), `${name} depends_on must name conditions`).toBe(false);
      for (const [dep, condition] of Object.entries(dependencies(s))) {
        expect(Object.keys(compose.services), `${name} depends on unknown ${dep}`).toContain(dep);
        expect(['service_healthy', 'service_completed_successfully'], `${name} → ${dep}`).toContain(condition);
        if (condition === 'service_healthy') expect(service(dep).healthcheck, `${dep} healthcheck`).toBeDefined();
      }
    }
    const ready = { postgres: 'service_healthy', redis: 'service_healthy', nats: 'service_healthy' };
    const migrated = { migrate: 'service_completed_successfully' };
    expect(dependencies(service('migrate'))).toEqual({ postgres: 'service_healthy' });
    expect(dependencies(service('api'))).toEqual({ ...ready, ...migrated });
    expect(dependencies(service('worker'))).toEqual({ ...ready, ...migrated });
    expect(dependencies(service('notifier'))).toEqual({ redis: 'service_healthy', nats: 'service_healthy' });
    expect(dependencies(service('nginx'))).toEqual({ api: 'service_healthy' });
  });

  it('lets api, worker and notifier scale: no host port and no fixed container name', () => {
    for (const app of APPS) {
      expect(service(app).ports, `${app} ports`).toBeUndefined();
      expect(service(app).container_name, `${app} container_name`).toBeUndefined();
    }
  });

  it('publishes a host port on nginx that reaches the port nginx.conf listens on', () => {
    const ports = service('nginx').ports ?? [];
    expect(ports).toHaveLength(1);
    const port = ports[0];
    expect(typeof port).toBe('string');
    const [host, container] = interpolate(port as string).split(':');
    expect(host).toBe('8000');
    expect(nginxConf).toMatch(new RegExp(`listen\\s+${container}[\\s;]`));
  });

  it.each(APPS)('runs %s with the start script of its package.json, from the image built for it', (app) => {
    const s = service(app);
    expect(buildArgs(s).APP).toBe(app);
    expect(s.image).toMatch(new RegExp(`/${app}:`));
    expect(s.working_dir).toBe(`/app/apps/${app}`);
    const dir = repoPath(s.working_dir!);
    expect(commandLine(s)).toBe(packageJson(dir).scripts?.start);
    const entry = commandLine(s).split(' ')[1]!;
    expect(existsSync(join(ROOT, dir, entry)), `${dir}/${entry}`).toBe(true);
  });

  it('migrates with the migrate script of @ratewire/db, from the api image that contains it', () => {
    const migrate = service('migrate');
    const dir = repoPath(migrate.working_dir ?? '');
    expect(dir).toBe('packages/db');
    expect(commandLine(migrate)).toBe(packageJson(dir).scripts?.migrate);
    expect(existsSync(join(ROOT, dir, commandLine(migrate).split(' ')[1]!))).toBe(true);
    expect(migrate.image).toBe(service('api').image);
    expect(buildArgs(migrate)).toEqual(buildArgs(service('api')));
    expect(packageJson('apps/api').dependencies).toHaveProperty('@ratewire/db');
  });

  it('probes each app on /readyz at the port it listens on', () => {
    const portOf = { api: 'PORT', worker: 'HEALTH_PORT', notifier: 'HEALTH_PORT' } as const;
    for (const app of APPS) {
      const port = environment(service(app))[portOf[app]];
      expect(port, `${app} ${portOf[app]}`).toMatch(/^\d+$/);
      expect(healthcheckCommand(service(app))).toContain(`http://127.0.0.1:${port}/readyz`);
    }
  });

  it('runs the apps in production, where the api refuses to start without JWT_SECRET', () => {
    for (const app of [...APPS, 'migrate']) expect(environment(service(app)).NODE_ENV, app).toBe('production');
    expect(environment(service('api')).JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?[^}]+\}$/);
  });

  it('points every app at the compose postgres, redis and nats', () => {
    for (const app of [...APPS, 'migrate']) {
      const env = environment(service(app));
      expect(new URL(interpolate(env.DATABASE_URL ?? '')).host, app).toBe('postgres:5432');
      expect(new URL(interpolate(env.REDIS_URL ?? '')).host, app).toBe('redis:6379');
      expect(new URL(interpolate(env.NATS_URL ?? '')).host, app).toBe('nats:4222');
    }
  });

  it('keeps postgres, redis and nats data on declared named volumes', () => {
    const dataDirs = { postgres: '/var/lib/postgresql/data', redis: '/data', nats: '/data' };
    for (const name of INFRA) {
      const mount = (service(name).volumes ?? []).find((v) => v.split(':')[1] === dataDirs[name]);
      expect(mount, `${name} data volume`).toBeDefined();
      const volume = mount!.split(':')[0]!;
      expect(volume).not.toMatch(/^[./]/);
      expect(Object.keys(compose.volumes ?? {})).toContain(volume);
    }
  });
});

describe('infra/nats/nats.conf', () => {
  it('is what nats runs with JetStream on, storing under the data volume', () => {
    const nats = service('nats');
    const command = commandLine(nats);
    expect(command).toMatch(/(^|\s)-js(\s|$)/);
    const configPath = /-c\s+(\S+)/.exec(command)?.[1];
    expect(nats.volumes).toContain(`./infra/nats/nats.conf:${configPath}:ro`);
    expect(block(natsConf, /jetstream\s*/)).toMatch(/store_dir:\s*\/data\s*$/m);
    expect(nats.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
  });

  it('serves the monitoring port the healthcheck asks for /healthz', () => {
    const port = /^\s*http_port:\s*(\d+)/m.exec(natsConf)?.[1];
    expect(port).toBeDefined();
    expect(healthcheckCommand(service('nats'))).toContain(`http://127.0.0.1:${port}/healthz`);
  });
});

describe('infra/nginx/nginx.conf', () => {
  it('is mounted over the nginx config', () => {
    expect(service('nginx').volumes).toContain('./infra/nginx/nginx.conf:/etc/nginx/nginx.conf:ro');
  });

  it('balances over every api replica by re-resolving api in Docker DNS', () => {
    expect(nginxConf).toMatch(/^\s*resolver\s+127\.0\.0\.11[\s;]/m);
    const upstream = block(nginxConf, /upstream\s+api\s*/);
    expect(upstream).toMatch(/^\s*zone\s+\S+/m);
    expect(upstream).toMatch(/^\s*server\s+api:8000\s[^;]*\bresolve\b/m);
    expect(environment(service('api')).PORT).toBe('8000');
    // `resolve` in an upstream is open-source nginx from 1.27.3 on.
    const [major = 0, minor = 0] = (/^nginx:(\d+)\.(\d+)/.exec(service('nginx').image ?? '') ?? [])
      .slice(1)
      .map(Number);
    expect(major * 1000 + minor).toBeGreaterThanOrEqual(1028);
  });

  it('proxies every location to the api upstream with the client headers', () => {
    const locations = proxiedLocations(nginxConf);
    expect(locations.map((l) => l.path)).toEqual(expect.arrayContaining(['/', '/ws']));
    for (const { path, body } of locations) {
      // A location that sets any proxy_set_header inherits none from the server block.
      expect(body, path).toMatch(/proxy_pass\s+http:\/\/api;/);
      expect(body, path).toMatch(/proxy_set_header\s+Host\s/);
      expect(body, path).toMatch(/proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for;/);
      expect(body, path).toMatch(/proxy_set_header\s+X-Forwarded-Proto\s/);
    }
  });

  it('passes WebSocket upgrades on /ws with long timeouts', () => {
    const ws = proxiedLocations(nginxConf).find((l) => l.path === '/ws');
    expect(ws).toBeDefined();
    expect(ws!.body).toMatch(/proxy_set_header\s+Upgrade\s+\$http_upgrade;/);
    expect(ws!.body).toMatch(/proxy_set_header\s+Connection\s+\$connection_upgrade;/);
    expect(block(nginxConf, /map\s+\$http_upgrade\s+\$connection_upgrade\s*/)).toMatch(/default\s+upgrade;/);
    expect(`${block(nginxConf, /server\s*\{\s*listen\s+8000/)}`).toMatch(/proxy_http_version\s+1\.1;/);
    const read = /proxy_read_timeout\s+(\S+);/.exec(ws!.body)?.[1];
    expect(read).toBeDefined();
    expect(seconds(read!)).toBeGreaterThanOrEqual(600);
  });

  it('answers the nginx healthcheck itself, on a port it listens on', () => {
    const url = /http:\/\/127\.0\.0\.1:(\d+)(\/\S*)/.exec(healthcheckCommand(service('nginx')));
    expect(url).not.toBeNull();
    const [, port, path] = url!;
    const server = block(nginxConf, new RegExp(`server\\s*\\{\\s*listen\\s+(127\\.0\\.0\\.1:)?${port}[\\s;]`));
    expect(server).toMatch(new RegExp(`location\\s+(=\\s*)?${path}\\s*\\{[^}]*return\\s+200`));
  });
});

describe('Dockerfile', () => {
  const steps = instructions(dockerfile);
  const args = Object.fromEntries(
    steps
      .filter((s) => s.op === 'ARG' && s.args.includes('='))
      .map((s) => [s.args.slice(0, s.args.indexOf('=')), s.args.slice(s.args.indexOf('=') + 1)]),
  );
  const stages = steps
    .map((s, index) => ({ ...s, index }))
    .filter((s) => s.op === 'FROM')
    .map((s) => {
      const [image = '', , alias] = s.args.split(/\s+/);
      return { image: image.replace(/^\$\{(\w+)\}$/, (_m, name: string) => args[name] ?? ''), alias, index: s.index };
    });
  const finalStage = steps.slice(stages.at(-1)?.index ?? 0);

  it('builds in several stages, each from node:24 or an earlier stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const aliases = new Set<string>();
    for (const stage of stages) {
      expect(aliases.has(stage.image) || /^node:24([.-]|$)/.test(stage.image), stage.image).toBe(true);
      if (stage.alias) aliases.add(stage.alias);
    }
  });

  it('runs the final image as a non-root user', () => {
    const user = finalStage.filter((s) => s.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('installs only production dependencies from a pruned, frozen lockfile', () => {
    const runs = steps.filter((s) => s.op === 'RUN').map((s) => s.args);
    expect(runs.some((r) => /turbo prune\s+\S*\$\{APP\}\S*\s.*--docker/.test(r))).toBe(true);
    const install = runs.find((r) => /pnpm install/.test(r));
    expect(install).toMatch(/--frozen-lockfile/);
    expect(install).toMatch(/--prod\b/);
  });

  it('uses the pnpm pinned in package.json and the turbo pinned in the lockfile', () => {
    expect(`pnpm@${args.PNPM_VERSION}`).toBe(packageJson('.').packageManager);
    const lock = parse(read('pnpm-lock.yaml')) as { catalogs?: { default?: Record<string, { version?: string }> } };
    expect(args.TURBO_VERSION).toBe(lock.catalogs?.default?.turbo?.version);
  });

  it('ships the workspace sources next to their node_modules and starts the app script by default', () => {
    const copies = finalStage.filter((s) => s.op === 'COPY').map((s) => s.args);
    expect(copies.some((c) => /--from=deps\b/.test(c))).toBe(true);
    expect(copies.some((c) => /--from=pruner\b.*\/full\//.test(c))).toBe(true);
    const cmd = finalStage.filter((s) => s.op === 'CMD').at(-1)?.args;
    expect(JSON.parse(cmd ?? 'null')).toEqual(['node', 'src/main.ts']);
    for (const app of APPS) expect(packageJson(`apps/${app}`).scripts?.start).toBe('node src/main.ts');
  });
});

describe('.dockerignore', () => {
  it('keeps local installs, toolchain, service data and git out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['**/node_modules', '.toolchain', '.data', '.git']) expect(ignored).toContain(entry);
  });
});
