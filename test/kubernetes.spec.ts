// The Kubernetes deployment (deploy/kubernetes), checked without a cluster, kubectl or kustomize:
// the base and the example overlay are rendered by the small kustomize in ./kustomize.ts, every object
// is validated against the Kubernetes API schemas (kubernetes-models), and then what no schema knows is
// checked — that the manifests agree with the apps: settings keys their schemas know, probes on the
// ports and paths the apps serve, the commands of docker-compose.yml, the security context, selectors
// that find their pods, the migrations Job, the Helm values the URLs rely on.
//
// Each check returns its problems as sentences; the real manifests must give none, and a broken copy
// (a wrong probe port, an unknown setting, …) must give some, so every check is seen to fail.
// The schemas do not refuse unknown fields (the API server's strict field validation does): a
// misspelt field shows up here only when a check below misses what it should have said.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import {
  apiSettingsSchema,
  commonSettingsSchema,
  notifierSettingsSchema,
  workerSettingsSchema,
} from '@ratewire/contracts';

import { KUBERNETES_DIR, kustomizeBuild, nameHash, parseEnvFile, type K8sObject } from './kustomize.ts';

const ROOT = resolve(KUBERNETES_DIR, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// ---- the parts of the objects read here -------------------------------------------------------------

type Labels = Record<string, string>;
interface Probe {
  httpGet?: { path?: string; port?: number | string };
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[] };
  seccompProfile?: { type?: string };
}
interface Container {
  name: string;
  image?: string;
  command?: string[];
  workingDir?: string;
  ports?: { name?: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string } };
  }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
  volumes?: { name: string; emptyDir?: object }[];
}
interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    selector?: { matchLabels?: Labels };
    strategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } };
    template: { metadata?: { labels?: Labels }; spec: PodSpec };
  };
}
interface ServiceObject extends K8sObject {
  spec: {
    type?: string;
    selector?: Labels;
    externalName?: string;
    ports?: { name?: string; port: number; targetPort?: number | string }[];
  };
}
interface PdbObject extends K8sObject {
  spec: { selector?: { matchLabels?: Labels }; minAvailable?: number | string; maxUnavailable?: number | string };
}
interface HpaObject extends K8sObject {
  spec: {
    scaleTargetRef: { apiVersion?: string; kind: string; name: string };
    minReplicas?: number;
    maxReplicas: number;
    metrics?: { type: string; resource?: { name: string; target?: { type?: string } } }[];
  };
}
interface IngressObject extends K8sObject {
  metadata: K8sObject['metadata'] & { annotations?: Record<string, string> };
  spec: {
    ingressClassName?: string;
    rules?: {
      host?: string;
      http?: { paths: { backend: { service?: { name: string; port: { name?: string; number?: number } } } }[] };
    }[];
  };
}

const ofKind = <T extends K8sObject>(objects: K8sObject[], kind: string) =>
  objects.filter((o): o is T => o.kind === kind);
const named = <T extends K8sObject>(objects: K8sObject[], kind: string, name: string) =>
  ofKind<T>(objects, kind).find((o) => o.metadata.name === name);
const workloads = (objects: K8sObject[]) => [
  ...ofKind<Workload>(objects, 'Deployment'),
  ...ofKind<Workload>(objects, 'Job'),
];
const containersOf = (w: Workload) => [
  ...(w.spec.template.spec.initContainers ?? []),
  ...w.spec.template.spec.containers,
];
const matches = (selector: Labels | undefined, labels: Labels | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const imageName = (image: string) => image.replace(/@.*$/, '').replace(/:[^:/]+$/, '');

// ---- what the manifests are compared with -----------------------------------------------------------

/** The apps: their Deployment (or the Job), settings schema and docker-compose.yml service. */
const APPS = {
  'ratewire-api': { kind: 'Deployment', schema: apiSettingsSchema, compose: 'api' },
  'ratewire-worker': { kind: 'Deployment', schema: workerSettingsSchema, compose: 'worker' },
  'ratewire-notifier': { kind: 'Deployment', schema: notifierSettingsSchema, compose: 'notifier' },
  'ratewire-migrate': { kind: 'Job', schema: commonSettingsSchema, compose: 'migrate' },
} as const;
type AppName = keyof typeof APPS;
const APP_NAMES = Object.keys(APPS) as AppName[];
type FieldSchema = { safeParse(value: unknown): { success: boolean; data?: unknown } };
const shapeOf = (app: AppName) => APPS[app].schema.shape as unknown as Record<string, FieldSchema>;

interface ComposeService {
  image?: string;
  command?: string[];
  working_dir?: string;
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };

/** api shutdown after the drain: five phases, each step bounded at 4 s by the Shutdown (runtime/shutdown.ts). */
const SHUTDOWN_STEPS_SECONDS = 5 * 4;

interface NatsValues {
  config?: {
    cluster?: { enabled?: boolean; replicas?: number };
    jetstream?: { enabled?: boolean; fileStore?: { enabled?: boolean; pvc?: { enabled?: boolean } } };
    merge?: { authorization?: { user?: string } };
  };
  container?: { env?: Record<string, { valueFrom?: { secretKeyRef?: { name?: string; key?: string } } }> };
}
interface RedisValues {
  cluster?: { nodes?: number; replicas?: number };
  usePassword?: boolean;
  existingSecret?: string;
  existingSecretPasswordKey?: string;
  persistence?: { enabled?: boolean };
}
const HELM = {
  nats: 'deploy/kubernetes/helm/nats.values.yaml',
  redis: 'deploy/kubernetes/helm/redis-cluster.values.yaml',
};
/** The release name and chart a values file's install line uses: `helm install <release> <chart> …`. */
const helmInstall = (path: string) => {
  const m = /helm install (\S+) (\S+)/.exec(read(path));
  return { release: m?.[1], chart: m?.[2] };
};
/** The Secret and key a values file's `kubectl create secret generic <name> --from-literal=<key>=…` makes. */
const helmSecret = (path: string) => {
  const m = /create secret generic (\S+) --from-literal=([A-Za-z0-9_-]+)=/.exec(read(path));
  return { name: m?.[1], key: m?.[2] };
};

// ---- the environment a container gets ---------------------------------------------------------------

function environment(objects: K8sObject[], container: Container) {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  const data = (kind: 'ConfigMap' | 'Secret', name: string): Record<string, string> | undefined => {
    const found = named(objects, kind, name);
    if (!found) {
      problems.push(`${container.name}: refers to ${kind} ${name}, which the render does not hold`);
      return undefined;
    }
    const raw = (found['data'] ?? {}) as Record<string, string>;
    return kind === 'Secret'
      ? Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]))
      : raw;
  };
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, data('ConfigMap', from.configMapRef.name));
    if (from.secretRef) Object.assign(env, data('Secret', from.secretRef.name));
  }
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
    if (ref) {
      const value = data(e.valueFrom?.configMapKeyRef ? 'ConfigMap' : 'Secret', ref.name)?.[ref.key];
      if (value === undefined) problems.push(`${container.name}: ${e.name} refers to a missing key ${ref.key}`);
      else env[e.name] = value;
    } else env[e.name] = e.value ?? '';
  }
  return { env, problems };
}

/** As @ratewire/runtime's parseSettings: empty strings count as unset. */
const cleaned = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));

function appContainer(objects: K8sObject[], app: AppName) {
  const w = named<Workload>(objects, APPS[app].kind, app);
  return { workload: w, container: w?.spec.template.spec.containers[0] };
}

/** Parsed settings of an app as the render gives them (undefined when they do not parse). */
function settingsOf(objects: K8sObject[], app: AppName): Record<string, unknown> | undefined {
  const { container } = appContainer(objects, app);
  if (!container) return undefined;
  const result = APPS[app].schema.safeParse(cleaned(environment(objects, container).env));
  return result.success ? result.data : undefined;
}

// ---- the checks -------------------------------------------------------------------------------------

type Validating = new (data: never) => { validate(): void };
const MODELS: Record<string, Validating> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
};

function schemaProblems(objects: K8sObject[]): string[] {
  return objects.flatMap((o) => {
    const Model = MODELS[`${o.apiVersion}/${o.kind}`];
    if (!Model) return [`${o.kind} ${o.metadata.name}: no schema here for ${o.apiVersion}/${o.kind}`];
    try {
      new Model(structuredClone(o) as never).validate();
      return [];
    } catch (err) {
      return [`${o.kind} ${o.metadata.name}: ${(err as Error).message}`];
    }
  });
}

const LOCAL = /\b(localhost|127\.0\.0\.1)\b/;

function settingsProblems(objects: K8sObject[]): string[] {
  return APP_NAMES.flatMap((app) => {
    const { container } = appContainer(objects, app);
    if (!container) return [`${app}: missing`];
    const { env, problems } = environment(objects, container);
    const shape = shapeOf(app);
    const unknown = Object.keys(env).filter((k) => !(k in shape));
    if (unknown.length) problems.push(`${app}: settings its schema does not know: ${unknown.join(', ')}`);
    const result = APPS[app].schema.safeParse(cleaned(env));
    for (const issue of result.error?.issues ?? []) problems.push(`${app}: ${issue.path.join('.')}: ${issue.message}`);
    // The defaults are for a laptop: a setting left at one that names this machine (a local service
    // URL, localhost links in mail) is a setting the deployment forgot.
    for (const [key, field] of Object.entries(shape)) {
      if (env[key] && LOCAL.test(env[key])) problems.push(`${app}: ${key} names this machine (${env[key]})`);
      if (env[key]) continue;
      const byDefault = field.safeParse(undefined);
      if (byDefault.success && LOCAL.test(JSON.stringify(byDefault.data) ?? '')) {
        problems.push(`${app}: ${key} is not set, and its default names this machine`);
      }
    }
    return problems;
  });
}

const probePort = (c: Container, probe: Probe | undefined) => {
  const port = probe?.httpGet?.port;
  return typeof port === 'string' ? c.ports?.find((p) => p.name === port)?.containerPort : port;
};

function probeProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const app of ['ratewire-api', 'ratewire-worker', 'ratewire-notifier'] as const) {
    const { container } = appContainer(objects, app);
    const settings = settingsOf(objects, app);
    if (!container || !settings) {
      problems.push(`${app}: no container or no valid settings to compare the probes with`);
      continue;
    }
    const port = app === 'ratewire-api' ? settings['PORT'] : settings['HEALTH_PORT'];
    const expected = { startupProbe: '/healthz', readinessProbe: '/readyz', livenessProbe: '/healthz' } as const;
    for (const [kind, path] of Object.entries(expected) as [keyof typeof expected, string][]) {
      const probe = container[kind];
      if (probe?.httpGet?.path !== path) problems.push(`${app}: ${kind} asks ${probe?.httpGet?.path}, not ${path}`);
      if (probePort(container, probe) !== port) {
        problems.push(`${app}: ${kind} on port ${probePort(container, probe)}, the app listens on ${String(port)}`);
      }
    }
    if (app !== 'ratewire-api' && /^(127\.|::1$|localhost$)/.test(String(settings['HEALTH_HOST']))) {
      problems.push(
        `${app}: HEALTH_HOST ${String(settings['HEALTH_HOST'])} is loopback; the kubelet probes the pod IP`,
      );
    }
  }
  return problems;
}

function commandProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const app of APP_NAMES) {
    const { container } = appContainer(objects, app);
    const s = compose.services[APPS[app].compose];
    if (!container || !s) {
      problems.push(`${app}: missing here or in docker-compose.yml`);
      continue;
    }
    if (JSON.stringify(container.command) !== JSON.stringify(s.command)) {
      problems.push(`${app}: command ${JSON.stringify(container.command)}, compose runs ${JSON.stringify(s.command)}`);
    }
    if (container.workingDir !== s.working_dir) {
      problems.push(`${app}: workingDir ${container.workingDir}, compose uses ${s.working_dir}`);
    }
    // compose: ratewire/api:${RATEWIRE_TAG:-local}; here ratewire/api, or <registry>/ratewire/api:<tag>
    const want = (s.image ?? '').replace(/:.*$/, '');
    const have = imageName(container.image ?? '');
    if (have !== want && !have.endsWith(`/${want}`))
      problems.push(`${app}: image ${container.image}, compose builds ${want}`);
  }
  const api = appContainer(objects, 'ratewire-api').container?.image;
  const job = appContainer(objects, 'ratewire-migrate').container?.image;
  if (api !== job) problems.push(`ratewire-migrate: image ${job}, the api runs ${api} (migrate with the same release)`);
  return problems;
}

function securityProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of workloads(objects)) {
    const pod = w.spec.template.spec;
    const at = `${w.kind} ${w.metadata.name}`;
    if (pod.automountServiceAccountToken !== false) problems.push(`${at}: mounts a service account token`);
    const sa = named<K8sObject & { automountServiceAccountToken?: boolean }>(
      objects,
      'ServiceAccount',
      pod.serviceAccountName ?? '',
    );
    if (!sa) problems.push(`${at}: runs as ServiceAccount ${pod.serviceAccountName}, which the render does not hold`);
    else if (sa.automountServiceAccountToken !== false) problems.push(`${at}: its ServiceAccount mounts tokens`);
    for (const c of containersOf(w)) {
      const sc = c.securityContext ?? {};
      const where = `${at}/${c.name}`;
      if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true)
        problems.push(`${where}: runAsNonRoot not true`);
      if ((sc.runAsUser ?? pod.securityContext?.runAsUser) !== 1000)
        problems.push(`${where}: runAsUser not 1000 (node)`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: root filesystem writable`);
      if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation not false`);
      if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${where}: capabilities not dropped (ALL)`);
      if ((sc.seccompProfile ?? pod.securityContext?.seccompProfile)?.type !== 'RuntimeDefault') {
        problems.push(`${where}: seccompProfile not RuntimeDefault`);
      }
      const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
      if (!tmp || !pod.volumes?.find((v) => v.name === tmp.name)?.emptyDir)
        problems.push(`${where}: no emptyDir at /tmp`);
      for (const r of ['cpu', 'memory']) {
        if (!c.resources?.requests?.[r]) problems.push(`${where}: no ${r} request`);
        if (!c.resources?.limits?.[r]) problems.push(`${where}: no ${r} limit`);
      }
    }
  }
  return problems;
}

function selectorProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const deployments = ofKind<Workload>(objects, 'Deployment');
  const podsOf = (selector: Labels | undefined) =>
    workloads(objects).filter((w) => matches(selector, w.spec.template.metadata?.labels));
  for (const o of objects) {
    const labels = o.metadata.labels ?? {};
    for (const key of ['app.kubernetes.io/name', 'app.kubernetes.io/part-of']) {
      if (!labels[key]) problems.push(`${o.kind} ${o.metadata.name}: no ${key} label`);
    }
  }
  for (const d of deployments) {
    if (!matches(d.spec.selector?.matchLabels, d.spec.template.metadata?.labels)) {
      problems.push(`Deployment ${d.metadata.name}: its selector does not match its own pods`);
    }
  }
  for (const s of ofKind<ServiceObject>(objects, 'Service')) {
    if (s.spec.type === 'ExternalName') continue;
    const pods = podsOf(s.spec.selector);
    if (pods.length !== 1) problems.push(`Service ${s.metadata.name}: selects ${pods.length} workloads, not one`);
    for (const p of s.spec.ports ?? []) {
      const target = p.targetPort ?? p.port;
      const found = pods[0]?.spec.template.spec.containers.some((c) =>
        c.ports?.some((cp) => (typeof target === 'string' ? cp.name === target : cp.containerPort === target)),
      );
      if (!found) problems.push(`Service ${s.metadata.name}: targetPort ${target} is no container port of its pods`);
    }
  }
  for (const p of ofKind<PdbObject>(objects, 'PodDisruptionBudget')) {
    const pods = podsOf(p.spec.selector?.matchLabels);
    if (pods.length !== 1) problems.push(`PodDisruptionBudget ${p.metadata.name}: selects ${pods.length} workloads`);
  }
  for (const h of ofKind<HpaObject>(objects, 'HorizontalPodAutoscaler')) {
    const target = named<Workload>(objects, h.spec.scaleTargetRef.kind, h.spec.scaleTargetRef.name);
    if (!target) problems.push(`HorizontalPodAutoscaler ${h.metadata.name}: no ${h.spec.scaleTargetRef.name} to scale`);
    if (!h.spec.metrics?.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu')) {
      problems.push(`HorizontalPodAutoscaler ${h.metadata.name}: does not scale on CPU`);
    }
  }
  for (const i of ofKind<IngressObject>(objects, 'Ingress')) {
    if (i.spec.ingressClassName !== 'nginx') problems.push(`Ingress ${i.metadata.name}: class is not nginx`);
    for (const a of ['proxy-read-timeout', 'proxy-send-timeout']) {
      const value = i.metadata.annotations?.[`nginx.ingress.kubernetes.io/${a}`];
      if (value !== '3600') problems.push(`Ingress ${i.metadata.name}: ${a} is ${value}, WebSockets need 3600`);
    }
    for (const path of (i.spec.rules ?? []).flatMap((r) => r.http?.paths ?? [])) {
      const backend = path.backend.service;
      const service = named<ServiceObject>(objects, 'Service', backend?.name ?? '');
      const port = service?.spec.ports?.find((p) =>
        backend?.port.name ? p.name === backend.port.name : p.port === backend?.port.number,
      );
      if (!port)
        problems.push(
          `Ingress ${i.metadata.name}: backend ${backend?.name}:${JSON.stringify(backend?.port)} is no Service port`,
        );
    }
  }
  return problems;
}

function rolloutProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const api = named<Workload>(objects, 'Deployment', 'ratewire-api');
  if (!api) return ['ratewire-api: missing'];
  if (api.spec.strategy?.type !== 'RollingUpdate' || api.spec.strategy.rollingUpdate?.maxUnavailable !== 0) {
    problems.push('ratewire-api: a rollout may take replicas away (RollingUpdate with maxUnavailable 0 wanted)');
  }
  const hpa = ofKind<HpaObject>(objects, 'HorizontalPodAutoscaler').find(
    (h) => h.spec.scaleTargetRef.name === 'ratewire-api',
  );
  if ((api.spec.replicas ?? 1) < (hpa?.spec.minReplicas ?? 1))
    problems.push('ratewire-api: fewer replicas than the HPA minimum');
  const settings = settingsOf(objects, 'ratewire-api');
  const drainMs = Number(settings?.['SHUTDOWN_DRAIN_MS'] ?? 0);
  const grace = api.spec.template.spec.terminationGracePeriodSeconds ?? 30;
  if (grace <= drainMs / 1000 + SHUTDOWN_STEPS_SECONDS) {
    problems.push(
      `ratewire-api: terminationGracePeriodSeconds ${grace} ≤ the drain (${drainMs / 1000} s) + shutdown steps (${SHUTDOWN_STEPS_SECONDS} s)`,
    );
  }
  return problems;
}

/** The label selector the README's first-install and release steps apply the settings and the Job with. */
const preStepSelector = () =>
  /-l '(app\.kubernetes\.io\/component in \(([^)]*)\))'/.exec(read('deploy/kubernetes/README.md'))?.[2]?.split(',') ??
  [];

function migrationProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const job = named<Workload>(objects, 'Job', 'ratewire-migrate');
  const container = job?.spec.template.spec.containers[0];
  if (!job || !container) return ['Job ratewire-migrate: missing'];
  if (!['Never', 'OnFailure'].includes(job.spec.template.spec.restartPolicy ?? '')) {
    problems.push('Job ratewire-migrate: restartPolicy must be Never or OnFailure');
  }
  const args = container.command?.slice(1).join(' ');
  if (container.command?.[0] !== 'node' || args !== 'src/cli/migrate.ts latest') {
    problems.push(
      `Job ratewire-migrate: runs ${JSON.stringify(container.command)}, not node src/cli/migrate.ts latest`,
    );
  }
  try {
    read(join((container.workingDir ?? '').replace(/^\/app\//, ''), container.command?.[1] ?? ''));
  } catch {
    problems.push(`Job ratewire-migrate: ${container.workingDir}/${container.command?.[1]} is not in the workspace`);
  }
  // The settings, the Postgres Service and the Job itself are applied first, by label.
  const components = preStepSelector();
  const needed = [
    job,
    ...(container.envFrom ?? []).flatMap((f) => [
      ...(f.configMapRef ? [named(objects, 'ConfigMap', f.configMapRef.name)] : []),
      ...(f.secretRef ? [named(objects, 'Secret', f.secretRef.name)] : []),
    ]),
    ...ofKind<ServiceObject>(objects, 'Service').filter((s) => s.spec.type === 'ExternalName'),
  ];
  for (const o of needed) {
    if (!o) continue;
    const component = o.metadata.labels?.['app.kubernetes.io/component'] ?? '';
    if (!components.includes(component)) {
      problems.push(
        `${o.kind} ${o.metadata.name}: component "${component}" is not in the README's first step (${components.join(',')})`,
      );
    }
  }
  return problems;
}

function connectionProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const settings = settingsOf(objects, 'ratewire-migrate');
  const env = (() => {
    const { container } = appContainer(objects, 'ratewire-migrate');
    return container ? environment(objects, container).env : {};
  })();
  if (!settings) return ['ratewire-migrate: no valid connection settings'];
  const hostOf = (url: string) => /^[a-z+]+:\/\/(?:[^@/]*@)?([^:/,]+)/.exec(url)?.[1] ?? '';
  const inCluster = (host: string, service: string | undefined) =>
    !!service && (host === service || host.startsWith(`${service}.`));
  const db = hostOf(env['DATABASE_URL'] ?? '');
  if (!named(objects, 'Service', db) && !db.includes('.'))
    problems.push(`DATABASE_URL: ${db} is neither a Service here nor a DNS name`);
  const nats = helmInstall(HELM.nats);
  for (const url of String(env['NATS_URL'] ?? '').split(',')) {
    if (!inCluster(hostOf(url), nats.release))
      problems.push(`NATS_URL: ${hostOf(url)} is not the release ${nats.release}`);
  }
  const redis = helmInstall(HELM.redis);
  const redisUrl = env['REDIS_URL'] ?? '';
  if (!redisUrl.startsWith('redis+cluster://') && !redisUrl.startsWith('rediss+cluster://')) {
    problems.push(`REDIS_URL: the redis-cluster chart needs a redis+cluster:// URL`);
  }
  if (!inCluster(hostOf(redisUrl), redis.release))
    problems.push(`REDIS_URL: ${hostOf(redisUrl)} is not the release ${redis.release}`);
  // every stream and consumer as many copies as there are NATS servers: one server may be lost
  const servers = (parse(read(HELM.nats)) as NatsValues).config?.cluster?.replicas ?? 1;
  for (const app of APP_NAMES) {
    const replicas = settingsOf(objects, app)?.['NATS_STREAM_REPLICAS'];
    if (replicas !== servers) {
      problems.push(`${app}: NATS_STREAM_REPLICAS ${String(replicas)}, the NATS cluster has ${servers} servers`);
    }
  }
  return problems;
}

const CHECKS = {
  schemas: schemaProblems,
  settings: settingsProblems,
  probes: probeProblems,
  commands: commandProblems,
  security: securityProblems,
  selectors: selectorProblems,
  rollout: rolloutProblems,
  migrations: migrationProblems,
  connections: connectionProblems,
};

// ---- the renders ------------------------------------------------------------------------------------

const base = kustomizeBuild(join(KUBERNETES_DIR, 'base'));
const example = kustomizeBuild(join(KUBERNETES_DIR, 'overlays', 'example'));

/** A broken copy of the example render. */
function broken(change: (objects: K8sObject[]) => void): K8sObject[] {
  const copy = structuredClone(example);
  change(copy);
  return copy;
}
const workloadOf = (objects: K8sObject[], kind: string, name: string) => {
  const w = named<Workload>(objects, kind, name);
  if (!w) throw new Error(`${kind} ${name} not rendered`);
  return w;
};
const firstContainer = (objects: K8sObject[], kind: string, name: string) =>
  workloadOf(objects, kind, name).spec.template.spec.containers[0]!;
const configMapData = (objects: K8sObject[], prefix: string) =>
  ofKind(objects, 'ConfigMap').find((c) => c.metadata.name.startsWith(`${prefix}-`))?.['data'] as
    Record<string, string> | undefined;

describe('deploy/kubernetes rendered by the kustomize subset (test/kustomize.ts)', () => {
  it('renders the base without a namespace and the example into its namespace', () => {
    expect(base.filter((o) => o.metadata.namespace)).toEqual([]);
    expect(example.length).toBeGreaterThan(base.length);
    expect(example.filter((o) => o.metadata.namespace !== 'ratewire').map((o) => o.metadata.name)).toEqual([]);
  });

  it('sets the image tags of the overlay on every container, the Job included', () => {
    const images = workloads(example).flatMap((w) => containersOf(w).map((c) => c.image));
    expect(images.sort()).toEqual([
      'registry.example.com/ratewire/api:1.0.0',
      'registry.example.com/ratewire/api:1.0.0',
      'registry.example.com/ratewire/notifier:1.0.0',
      'registry.example.com/ratewire/worker:1.0.0',
    ]);
  });

  it('merges the worker patch into the base: replicas and one limit change, the rest stays', () => {
    const worker = workloadOf(example, 'Deployment', 'ratewire-worker');
    const before = firstContainer(base, 'Deployment', 'ratewire-worker');
    const after = firstContainer(example, 'Deployment', 'ratewire-worker');
    expect(worker.spec.replicas).toBe(3);
    expect(after.resources).toEqual({ ...before.resources, limits: { ...before.resources?.limits, memory: '768Mi' } });
    expect(after.readinessProbe).toEqual(before.readinessProbe);
    expect(after.envFrom?.length).toBe(before.envFrom?.length);
  });

  it("merges the overlay's worker settings into the base's ConfigMap", () => {
    const data = configMapData(example, 'ratewire-worker');
    const own = parseEnvFile(read('deploy/kubernetes/overlays/example/settings/worker.env'), 'worker.env');
    expect(data).toMatchObject(own);
    expect(data?.['HEALTH_PORT']).toBe(configMapData(base, 'ratewire-worker')?.['HEALTH_PORT']);
    expect(configMapData(base, 'ratewire-worker')?.['PUBLIC_BASE_URL']).not.toBe(own['PUBLIC_BASE_URL']);
  });

  it('hashes names as kustomize does (its api/hasher test vectors)', () => {
    const object = (kind: string, rest: object) => ({ apiVersion: 'v1', kind, metadata: { name: '' }, ...rest });
    expect(nameHash(object('ConfigMap', {}))).toBe('6ct58987ht');
    expect(nameHash(object('ConfigMap', { data: { one: '' } }))).toBe('9g67k2htb6');
    // keys in any order: one name
    expect(nameHash(object('ConfigMap', { data: { two: '2', one: '' } }))).toBe(
      nameHash(object('ConfigMap', { data: { one: '', two: '2' } })),
    );
    expect(nameHash(object('Secret', { type: 'my-type' }))).toBe('5gmgkf8578');
    expect(nameHash(object('Secret', { type: 'my-type', data: { one: '' } }))).toBe('74bd68bm66');
  });

  it('names generated ConfigMaps and Secrets by their content, and every reference follows the new name', () => {
    const generatedObjects = example.filter((o) => o.kind === 'ConfigMap' || o.kind === 'Secret');
    expect(generatedObjects.length).toBe(7);
    for (const o of generatedObjects) expect(o.metadata.name).toMatch(/^ratewire-[a-z-]+-[a-z0-9]{10}$/);
    // a change of content is a new name: the Deployments that read it roll
    const merged = configMapData(example, 'ratewire-worker');
    const baseName = ofKind(base, 'ConfigMap').find((c) => c.metadata.name.startsWith('ratewire-worker-'))?.metadata
      .name;
    const exampleName = ofKind(example, 'ConfigMap').find((c) => c.metadata.name.startsWith('ratewire-worker-'))
      ?.metadata.name;
    expect(merged).toBeDefined();
    expect(exampleName).not.toBe(baseName);
    for (const w of workloads(example)) {
      for (const c of containersOf(w)) expect(environment(example, c).problems).toEqual([]);
    }
  });
});

describe('deploy/kubernetes against the Kubernetes API schemas (kubernetes-models)', () => {
  it.each([
    ['base', base],
    ['overlays/example', example],
  ])('%s: every object is valid', (_name, objects) => {
    expect(schemaProblems(objects)).toEqual([]);
    expect(new Set(objects.map((o) => o.kind))).toEqual(
      new Set(
        [
          'ServiceAccount',
          'ConfigMap',
          'Secret',
          'Service',
          'Deployment',
          'Job',
          'HorizontalPodAutoscaler',
          'PodDisruptionBudget',
          'Ingress',
        ].filter((kind) => kind !== 'Secret' || objects === example),
      ),
    );
  });

  it('would catch a field of the wrong type and a missing required field', () => {
    const wrongType = broken((o) => {
      (firstContainer(o, 'Deployment', 'ratewire-api').ports![0] as { containerPort: unknown }).containerPort = '8000';
    });
    expect(schemaProblems(wrongType).join('\n')).toMatch(/containerPort must be integer/);
    const noMax = broken((o) => {
      delete (ofKind<HpaObject>(o, 'HorizontalPodAutoscaler')[0]!.spec as Partial<HpaObject['spec']>).maxReplicas;
    });
    expect(schemaProblems(noMax).join('\n')).toMatch(/maxReplicas/);
  });
});

describe('deploy/kubernetes against the apps', () => {
  it.each(Object.keys(CHECKS).filter((c) => c !== 'schemas'))('overlays/example: no %s problem', (check) => {
    expect(CHECKS[check as keyof typeof CHECKS](example)).toEqual([]);
  });

  it.each(['probes', 'commands', 'security', 'selectors', 'rollout'] as const)('base: no %s problem', (check) => {
    // the base has no Secrets: settings-dependent checks see the ConfigMaps only, enough for these
    const problems = CHECKS[check](base).filter((p) => !/no valid settings|refers to Secret/.test(p));
    expect(problems).toEqual([]);
  });

  it('serves the probe paths the apps answer', () => {
    const api = read('apps/api/src/health/health.routes.ts');
    const health = read('packages/runtime/src/health-server.ts');
    for (const path of ['/healthz', '/readyz']) {
      expect(api).toContain(`path: '${path}'`);
      expect(health).toContain(`path === '${path}'`);
    }
  });

  it('runs as the image user: node, uid 1000 in the node images', () => {
    expect(read('Dockerfile')).toMatch(/^USER node$/m);
    expect(read('Dockerfile')).toMatch(/^ARG NODE_IMAGE=node:/m);
  });

  const MISTAKES: [string, keyof typeof CHECKS, (o: K8sObject[]) => void, RegExp][] = [
    [
      'an unknown setting',
      'settings',
      (o) => {
        firstContainer(o, 'Deployment', 'ratewire-notifier').env = [{ name: 'NOTIFIER_SPEED', value: 'fast' }];
      },
      /ratewire-notifier: settings its schema does not know: NOTIFIER_SPEED/,
    ],
    [
      'a setting of the wrong app',
      'settings',
      (o) => {
        firstContainer(o, 'Job', 'ratewire-migrate').env = [{ name: 'JWT_SECRET', value: 'x'.repeat(40) }];
      },
      /ratewire-migrate: settings its schema does not know: JWT_SECRET/,
    ],
    [
      'a bad value',
      'settings',
      (o) => {
        firstContainer(o, 'Deployment', 'ratewire-api').env = [{ name: 'JWT_SECRET', value: 'short' }];
      },
      /ratewire-api: JWT_SECRET: must be at least 32 characters/,
    ],
    [
      'a connection left at its local default',
      'settings',
      (o) => {
        const w = firstContainer(o, 'Deployment', 'ratewire-worker');
        w.envFrom = w.envFrom?.filter((f) => !f.secretRef?.name.startsWith('ratewire-connections'));
      },
      /ratewire-worker: DATABASE_URL is not set, and its default names this machine/,
    ],
    [
      'a link to localhost',
      'settings',
      (o) => {
        firstContainer(o, 'Deployment', 'ratewire-worker').env = [
          { name: 'PUBLIC_BASE_URL', value: 'http://localhost:8000' },
        ];
      },
      /ratewire-worker: PUBLIC_BASE_URL names this machine/,
    ],
    [
      'a wrong probe port',
      'probes',
      (o) => {
        firstContainer(o, 'Deployment', 'ratewire-worker').readinessProbe!.httpGet!.port = 8002;
      },
      /ratewire-worker: readinessProbe on port 8002, the app listens on 8001/,
    ],
    [
      'a liveness probe on /readyz',
      'probes',
      (o) => {
        firstContainer(o, 'Deployment', 'ratewire-api').livenessProbe!.httpGet!.path = '/readyz';
      },
      /ratewire-api: livenessProbe asks \/readyz, not \/healthz/,
    ],
    [
      'a health port on loopback',
      'probes',
      (o) => {
        firstContainer(o, 'Deployment', 'ratewire-notifier').env = [{ name: 'HEALTH_HOST', value: '127.0.0.1' }];
      },
      /ratewire-notifier: HEALTH_HOST 127\.0\.0\.1 is loopback/,
    ],
    [
      'another command',
      'commands',
      (o) => {
        firstContainer(o, 'Deployment', 'ratewire-worker').command = ['node', 'src/cli/main.ts'];
      },
      /ratewire-worker: command/,
    ],
    [
      'another working directory',
      'commands',
      (o) => {
        firstContainer(o, 'Deployment', 'ratewire-notifier').workingDir = '/app';
      },
      /ratewire-notifier: workingDir \/app/,
    ],
    [
      'another image',
      'commands',
      (o) => {
        firstContainer(o, 'Job', 'ratewire-migrate').image = 'registry.example.com/ratewire/worker:1.0.0';
      },
      /ratewire-migrate: image/,
    ],
    [
      'a writable root filesystem',
      'security',
      (o) => {
        firstContainer(o, 'Job', 'ratewire-migrate').securityContext!.readOnlyRootFilesystem = false;
      },
      /Job ratewire-migrate\/migrate: root filesystem writable/,
    ],
    [
      'a container running as root',
      'security',
      (o) => {
        const c = firstContainer(o, 'Deployment', 'ratewire-api');
        c.securityContext = { ...c.securityContext, runAsUser: 0 };
      },
      /ratewire-api\/api: runAsUser not 1000/,
    ],
    [
      'capabilities kept',
      'security',
      (o) => {
        firstContainer(o, 'Deployment', 'ratewire-worker').securityContext!.capabilities = {};
      },
      /ratewire-worker\/worker: capabilities not dropped/,
    ],
    [
      'no /tmp',
      'security',
      (o) => {
        firstContainer(o, 'Deployment', 'ratewire-notifier').volumeMounts = [];
      },
      /ratewire-notifier\/notifier: no emptyDir at \/tmp/,
    ],
    [
      'no memory limit',
      'security',
      (o) => {
        delete firstContainer(o, 'Deployment', 'ratewire-api').resources!.limits!['memory'];
      },
      /ratewire-api\/api: no memory limit/,
    ],
    [
      'a mounted token',
      'security',
      (o) => {
        workloadOf(o, 'Deployment', 'ratewire-worker').spec.template.spec.automountServiceAccountToken = true;
      },
      /Deployment ratewire-worker: mounts a service account token/,
    ],
    [
      'a PDB selecting nothing',
      'selectors',
      (o) => {
        const pdb = named<PdbObject>(o, 'PodDisruptionBudget', 'ratewire-api')!;
        pdb.spec.selector = { matchLabels: { 'app.kubernetes.io/component': 'ap' } };
      },
      /PodDisruptionBudget ratewire-api: selects 0 workloads/,
    ],
    [
      'a Service selecting every app',
      'selectors',
      (o) => {
        named<ServiceObject>(o, 'Service', 'ratewire-api')!.spec.selector = { 'app.kubernetes.io/name': 'ratewire' };
      },
      /Service ratewire-api: selects 4 workloads/,
    ],
    [
      'an Ingress to a port the Service lacks',
      'selectors',
      (o) => {
        const backend = ofKind<IngressObject>(o, 'Ingress')[0]!.spec.rules![0]!.http!.paths[0]!.backend.service!;
        backend.port = { number: 8000 };
      },
      /Ingress ratewire: backend ratewire-api:\{"number":8000\} is no Service port/,
    ],
    [
      'an HPA for a missing Deployment',
      'selectors',
      (o) => {
        ofKind<HpaObject>(o, 'HorizontalPodAutoscaler')[0]!.spec.scaleTargetRef.name = 'ratewire-apis';
      },
      /no ratewire-apis to scale/,
    ],
    [
      'short WebSocket timeouts',
      'selectors',
      (o) => {
        ofKind<IngressObject>(o, 'Ingress')[0]!.metadata.annotations![
          'nginx.ingress.kubernetes.io/proxy-read-timeout'
        ] = '60';
      },
      /proxy-read-timeout is 60/,
    ],
    [
      'a rollout that takes a replica away',
      'rollout',
      (o) => {
        workloadOf(o, 'Deployment', 'ratewire-api').spec.strategy!.rollingUpdate!.maxUnavailable = 1;
      },
      /ratewire-api: a rollout may take replicas away/,
    ],
    [
      'a grace period shorter than the drain and the shutdown',
      'rollout',
      (o) => {
        workloadOf(o, 'Deployment', 'ratewire-api').spec.template.spec.terminationGracePeriodSeconds = 15;
      },
      /terminationGracePeriodSeconds 15/,
    ],
    [
      'a drain longer than the grace period allows',
      'rollout',
      (o) => {
        firstContainer(o, 'Deployment', 'ratewire-api').env = [{ name: 'SHUTDOWN_DRAIN_MS', value: '30000' }];
      },
      /terminationGracePeriodSeconds 45 ≤ the drain \(30 s\)/,
    ],
    [
      'a Job running another command',
      'migrations',
      (o) => {
        firstContainer(o, 'Job', 'ratewire-migrate').command = ['node', 'src/cli/migrate.ts', 'down'];
      },
      /not node src\/cli\/migrate\.ts latest/,
    ],
    [
      'a Job whose Secret the first step leaves out',
      'migrations',
      (o) => {
        const secret = ofKind(o, 'Secret').find((s) => s.metadata.name.startsWith('ratewire-connections-'))!;
        secret.metadata.labels = { ...secret.metadata.labels, 'app.kubernetes.io/component': 'api' };
      },
      /Secret ratewire-connections-[a-z0-9]+: component "api" is not in the README's first step/,
    ],
    [
      'a NATS URL to another host',
      'connections',
      (o) => {
        firstContainer(o, 'Job', 'ratewire-migrate').env = [{ name: 'NATS_URL', value: 'nats://nats:4222' }];
      },
      /NATS_URL: nats is not the release ratewire-nats/,
    ],
    [
      'streams with fewer copies than NATS servers',
      'connections',
      (o) => {
        firstContainer(o, 'Deployment', 'ratewire-worker').env = [{ name: 'NATS_STREAM_REPLICAS', value: '1' }];
      },
      /ratewire-worker: NATS_STREAM_REPLICAS 1, the NATS cluster has 3 servers/,
    ],
  ];

  it.each(MISTAKES)('would catch %s', (_what, check, change, message) => {
    expect(CHECKS[check](example)).toEqual([]);
    expect(CHECKS[check](broken(change)).join('\n')).toMatch(message);
  });
});

describe('deploy/kubernetes/helm values', () => {
  const nats = parse(read(HELM.nats)) as NatsValues;
  const redis = parse(read(HELM.redis)) as RedisValues;

  it('runs NATS as a cluster of 3 with JetStream on file storage', () => {
    expect(helmInstall(HELM.nats).chart).toBe('nats/nats');
    expect(nats.config?.cluster).toMatchObject({ enabled: true, replicas: 3 });
    expect(nats.config?.jetstream).toMatchObject({
      enabled: true,
      fileStore: { enabled: true, pvc: { enabled: true } },
    });
  });

  it('gives NATS the password of the Secret its install line creates, for the user NATS_URL names', () => {
    const secret = helmSecret(HELM.nats);
    expect(nats.container?.env?.['NATS_PASSWORD']?.valueFrom?.secretKeyRef).toEqual({
      name: secret.name,
      key: secret.key,
    });
    const url = parseEnvFile(read('deploy/kubernetes/overlays/example/secrets/connections.example.env'), 'env')[
      'NATS_URL'
    ];
    expect(new URL(url ?? '').username).toBe(nats.config?.merge?.authorization?.user);
  });

  it('runs Redis as a cluster with a replica per primary, password from the Secret its install line creates', () => {
    expect(helmInstall(HELM.redis).chart).toMatch(/\/redis-cluster$/);
    expect(redis.cluster?.nodes).toBeGreaterThanOrEqual(6);
    expect(redis.cluster?.replicas).toBeGreaterThanOrEqual(1);
    expect(redis.persistence?.enabled).toBe(true);
    const secret = helmSecret(HELM.redis);
    expect(redis).toMatchObject({
      usePassword: true,
      existingSecret: secret.name,
      existingSecretPasswordKey: secret.key,
    });
  });
});
