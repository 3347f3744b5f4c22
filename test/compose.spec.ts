// The container deployment, checked without a Docker engine: docker-compose.yml is validated against
// the compose-spec schema by dclint (which bundles it and runs offline; rules in .dclintrc.yaml), and
// here only what no schema can know is checked — that the files agree with each other and with the
// workspace: commands that exist, ports that match the settings, settings keys the apps know.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import {
  apiSettingsSchema,
  commonSettingsSchema,
  notifierSettingsSchema,
  workerSettingsSchema,
} from '@ratewire/contracts';

import { ensureNginx } from '../scripts/bootstrap/nginx.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  build?: string | { context?: string; args?: Record<string, string> };
  command?: string[];
  working_dir?: string;
  environment?: Record<string, string | number | boolean | null>;
  expose?: string[];
  ports?: string[];
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition?: string }>;
  container_name?: string;
  volumes?: string[];
  stop_grace_period?: string;
}

// Compose merges `<<:` keys (YAML 1.1), which the yaml package only does when asked.
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
};
const strip = (conf: string) => conf.replace(/(^|\s)#.*$/gm, '$1');

/** Compose interpolation with the file's own defaults: `${X:-d}` → d, `${X:?msg}` → a stand-in value. */
const interpolate = (value: string) =>
  value.replace(/\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) =>
    op === '-' ? (arg ?? '') : `stand-in-for-${name}-${'x'.repeat(32)}`,
  );
const environment = (s: Service): Record<string, string> =>
  Object.fromEntries(
    Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(v === null ? '' : String(v))]),
  );
/** The port a healthcheck or URL names (`http://127.0.0.1:8001/readyz` → 8001). */
const urlPort = (text: string) => Number(/https?:\/\/[^/:\s'"]+:(\d+)\//.exec(text)?.[1]);

// dclint's bundled type declarations do not resolve under NodeNext; this is the part used here.
interface LintResult {
  errorCount: number;
  messages: { line: number; message: string; rule: string }[];
}
const { DCLinter } = createRequire(import.meta.url)('dclint') as {
  DCLinter: new (config: object) => { lintFiles(paths: string[], recursive: boolean): LintResult[] };
};
const dclintConfig = parse(read('.dclintrc.yaml')) as { rules: Record<string, 0 | 1 | 2> };
function lint(path: string) {
  return new DCLinter({ rules: dclintConfig.rules, quiet: false, debug: false, exclude: [] }).lintFiles([path], false);
}

const APPS = {
  api: apiSettingsSchema,
  worker: workerSettingsSchema,
  notifier: notifierSettingsSchema,
} as const;

describe('docker-compose.yml against the compose-spec schema (dclint)', () => {
  it('is valid, with no error and no warning', () => {
    const [result] = lint(join(ROOT, 'docker-compose.yml'));
    expect(result?.messages.map((m) => `${m.line}: ${m.message} (${m.rule})`)).toEqual([]);
  });

  it('would catch a key the schema does not know', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-compose-'));
    try {
      const broken = read('docker-compose.yml').replace('    shm_size: 128mb', '    shm_sise: 128mb');
      writeFileSync(join(dir, 'docker-compose.yml'), broken);
      const [result] = lint(join(dir, 'docker-compose.yml'));
      expect(result?.errorCount).toBeGreaterThan(0);
      expect(result?.messages.map((m) => m.rule)).toContain('invalid-schema');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docker-compose.yml against the workspace', () => {
  it.each(['api', 'worker', 'notifier', 'migrate'])('runs %s with a command that exists in the image', (name) => {
    const s = service(name);
    // The Dockerfile keeps the pruned workspace at /app; the command is `node <file>` from working_dir.
    expect(s.working_dir).toMatch(/^\/app\//);
    const [node, file] = s.command ?? [];
    expect(node).toBe('node');
    expect(() => read(join(s.working_dir!.slice('/app/'.length), file!))).not.toThrow();
    const app = typeof s.build === 'object' ? s.build.args?.['APP'] : undefined;
    expect(s.working_dir).toContain(name === 'migrate' ? 'packages/db' : `apps/${app}`);
  });

  it.each(Object.keys(APPS))('gives %s only settings keys its settings schema knows, and valid values', (name) => {
    const schema = APPS[name as keyof typeof APPS];
    const env = environment(service(name));
    expect(Object.keys(env).filter((k) => !(k in schema.shape))).toEqual([]);
    expect(schema.safeParse(env).error?.issues ?? []).toEqual([]);
  });

  it('gives migrate only keys the common settings know', () => {
    const env = environment(service('migrate'));
    expect(Object.keys(env).filter((k) => !(k in commonSettingsSchema.shape))).toEqual([]);
  });

  it('probes each app on /readyz at the port its settings make it listen on', () => {
    const api = apiSettingsSchema.parse(environment(service('api')));
    expect(service('api').expose).toContain(String(api.PORT));
    expect(urlPort(service('api').healthcheck?.test?.join(' ') ?? '')).toBe(api.PORT);
    for (const name of ['worker', 'notifier'] as const) {
      const settings = APPS[name].parse(environment(service(name)));
      expect(urlPort(service(name).healthcheck?.test?.join(' ') ?? '')).toBe(settings.HEALTH_PORT);
    }
  });

  it('points every app at services the file defines, on the ports their configs listen on', () => {
    const natsConf = strip(read('infra/nats/nats.conf'));
    for (const name of [...Object.keys(APPS), 'migrate']) {
      const env = environment(service(name));
      for (const key of ['DATABASE_URL', 'REDIS_URL', 'NATS_URL']) {
        if (!env[key]) continue;
        const url = new URL(env[key]);
        expect(compose.services, `${name} ${key}`).toHaveProperty(url.hostname);
        if (key === 'NATS_URL') expect(natsConf).toMatch(new RegExp(`^port:\\s*${url.port}\\b`, 'm'));
      }
    }
    // The NATS healthcheck asks the monitoring port nats.conf serves.
    const natsHealth = urlPort(service('nats').healthcheck?.test?.join(' ') ?? '');
    expect(natsConf).toMatch(new RegExp(`^http_port:\\s*${natsHealth}\\b`, 'm'));
  });

  it('sends nginx to the api port, and publishes the port nginx listens on', () => {
    const nginx = strip(read('infra/nginx/nginx.conf.template'));
    const api = apiSettingsSchema.parse(environment(service('api')));
    expect(nginx).toMatch(new RegExp(`set\\s+\\$ratewire_api\\s+api:${api.PORT};`));
    const published = interpolate(service('nginx').ports?.[0] ?? '');
    const target = published.split(':').at(-1);
    expect(nginx).toMatch(new RegExp(`listen\\s+${target}\\b`));
    expect(urlPort(service('nginx').healthcheck?.test?.join(' ') ?? '')).toSatisfy((p: number) =>
      new RegExp(`listen\\s+(127\\.0\\.0\\.1:)?${p}\\b`).test(nginx),
    );
  });

  it('waits only on dependencies that report health or run once', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        if (condition === 'service_healthy') expect(service(dep).healthcheck, `${name} → ${dep}`).toBeDefined();
        else expect(condition, `${name} → ${dep}`).toBe('service_completed_successfully');
      }
    }
  });

  it('lets api, worker and notifier scale: no host port and no fixed container name', () => {
    for (const name of Object.keys(APPS)) {
      expect(service(name).ports).toBeUndefined();
      expect(service(name).container_name).toBeUndefined();
    }
  });

  it('builds with the pnpm pinned in package.json', () => {
    const pinned = (JSON.parse(read('package.json')) as { packageManager: string }).packageManager;
    expect(read('Dockerfile')).toContain(`ARG PNPM_VERSION=${pinned.split('@')[1]}`);
  });

  it('gives a stopping api replica longer than its drain before Docker kills it', () => {
    const api = apiSettingsSchema.parse(environment(service('api')));
    const grace = /^(\d+)s$/.exec(service('api').stop_grace_period ?? '')?.[1];
    expect(api.SHUTDOWN_DRAIN_MS).toBeGreaterThan(0);
    expect(Number(grace) * 1000).toBeGreaterThan(api.SHUTDOWN_DRAIN_MS + 10_000);
  });
});

/** The files the nginx service mounts, by their path in the container. */
const nginxMounts = () =>
  Object.fromEntries(
    (service('nginx').volumes ?? []).map((v) => {
      const [host, container] = v.split(':');
      return [container!, host!.replace(/^\.\//, '')];
    }),
  );
/** The official image's envsubst (20-envsubst-on-templates.sh): only variables set in `env` are replaced. */
const envsubst = (template: string, env: Record<string, string>) =>
  template.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, braced?: string, bare?: string) => env[(braced ?? bare)!] ?? m);
/** A duration in nginx's units, in ms. */
const nginxMs = (value: string) => {
  const m = /^(\d+)(ms|s|m)?$/.exec(value);
  if (!m) throw new Error(`not an nginx duration: ${value}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] ?? 's']!;
};

describe('the nginx service and the local multi-replica mode', () => {
  const template = read('infra/nginx/nginx.conf.template');
  const local = read('infra/nginx/local.conf.template');
  const proxy = strip(read('infra/nginx/ratewire-proxy.conf'));

  it('renders nginx.conf from a template with the container’s own resolvers, not a fixed DNS address', () => {
    const env = environment(service('nginx'));
    // 15-local-resolvers.envsh exports NGINX_LOCAL_RESOLVERS when this is set; 20-envsubst-on-templates.sh
    // writes /etc/nginx/templates/X.template to $NGINX_ENVSUBST_OUTPUT_DIR/X
    expect(env['NGINX_ENTRYPOINT_LOCAL_RESOLVERS']).toBe('1');
    expect(env['NGINX_ENVSUBST_OUTPUT_DIR']).toBe('/etc/nginx');
    expect(nginxMounts()['/etc/nginx/templates/nginx.conf.template']).toBe('infra/nginx/nginx.conf.template');
    expect(nginxMounts()['/etc/nginx/nginx.conf']).toBeUndefined();
    expect(strip(template)).toMatch(/^\s*resolver \$\{NGINX_LOCAL_RESOLVERS\} valid=\d+s\b/m);
    // the only variables of the container's environment it uses are the entrypoint's
    expect([...strip(template).matchAll(/\$\{?([A-Z][A-Z0-9_]*)\}?/g)].map((m) => m[1])).toEqual([
      'NGINX_LOCAL_RESOLVERS',
    ]);
    for (const file of ['docker-compose.yml', 'infra/nginx/nginx.conf.template', 'infra/nginx/ratewire-proxy.conf']) {
      expect(strip(read(file)), file).not.toContain('127.0.0.11');
    }
    // no upstream `resolve` (nginx >= 1.27.3): the same rules run on Debian 12's nginx 1.22
    for (const conf of [template, local, proxy]) expect(strip(conf)).not.toMatch(/\sresolve[\s;]/);
  });

  it('runs one set of proxy rules in both, mounted where the compose config includes them', () => {
    for (const [name, conf] of [
      ['compose', template],
      ['local', local],
    ] as const) {
      const http = /http\s*\{([\s\S]*)\}\s*$/.exec(strip(conf))?.[1] ?? '';
      expect(http, name).toMatch(/^\s*include ratewire-http\.conf;/m);
      // in the server that listens for clients, which sets where requests go
      expect(http, name).toMatch(/^\s*set \$ratewire_api \S+;$/m);
      expect(http.match(/^\s*include ratewire-proxy\.conf;$/gm), name).toHaveLength(1);
      // no location of its own that bypasses them (bar nginx's own health)
      expect(
        strip(conf)
          .match(/location\s+(?:[=~^*]+\s+)?\S+/g)
          ?.filter((l) => !/nginx-(health|status)/.test(l)) ?? [],
        name,
      ).toEqual([]);
    }
    for (const file of ['ratewire-http.conf', 'ratewire-proxy.conf']) {
      expect(nginxMounts()[`/etc/nginx/${file}`]).toBe(`infra/nginx/${file}`);
    }
    expect(proxy).toMatch(/location \/ws \{[^}]*proxy_pass http:\/\/\$ratewire_api;/);
    expect(proxy).toMatch(/location \/ \{[^}]*proxy_pass http:\/\/\$ratewire_api;/);
  });

  it('moves on from a dead api replica in under a second', () => {
    const timeouts = [...proxy.matchAll(/proxy_connect_timeout\s+(\S+);/g)].map((m) => nginxMs(m[1]!));
    expect(timeouts.length).toBeGreaterThan(0);
    for (const t of timeouts) expect(t).toBeLessThanOrEqual(1000);
    for (const conf of [template, local]) expect(strip(conf)).not.toContain('proxy_connect_timeout');
    expect(proxy).toMatch(/proxy_next_upstream error timeout\b/);
    expect(Number(/proxy_next_upstream_tries (\d+);/.exec(proxy)?.[1])).toBeGreaterThanOrEqual(2);
  });

  it('is a configuration Debian’s nginx 1.22 accepts (nginx -t), as the entrypoint renders it', () => {
    const bin = ensureNginx(() => {});
    const dir = mkdtempSync(join(tmpdir(), 'rw-compose-nginx-'));
    try {
      const rendered = envsubst(template, { NGINX_LOCAL_RESOLVERS: '127.0.0.1 [::1]' })
        // the image's user and log directory, which this machine need not have
        .replace(/^user nginx;$/m, '')
        .replaceAll('/var/log/nginx/', `${dir}/`)
        .replaceAll('/var/run/nginx.pid', `${dir}/nginx.pid`);
      writeFileSync(join(dir, 'nginx.conf'), rendered);
      for (const f of ['ratewire-http.conf', 'ratewire-proxy.conf'])
        copyFileSync(join(ROOT, 'infra/nginx', f), join(dir, f));
      const t = spawnSync(bin, ['-t', '-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
        encoding: 'utf8',
      });
      expect(t.stderr).toContain('test is successful');
      expect(t.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
