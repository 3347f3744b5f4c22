// The container deployment, checked without a Docker engine: docker-compose.yml is validated against
// the compose-spec schema by dclint (which bundles it and runs offline; rules in .dclintrc.yaml), and
// here only what no schema can know is checked — that the files agree with each other and with the
// workspace: commands that exist, ports that match the settings, settings keys the apps know.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    const nginx = strip(read('infra/nginx/nginx.conf'));
    const api = apiSettingsSchema.parse(environment(service('api')));
    expect(nginx).toMatch(new RegExp(`server\\s+api:${api.PORT}\\b`));
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
});
