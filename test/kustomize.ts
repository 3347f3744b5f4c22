// A small kustomize, enough to render deploy/kubernetes without kubectl or kustomize (neither is
// installed where the tests run, and there is no network). It supports only what those files use, and
// refuses anything else rather than render it wrongly:
//
//   resources          files (multi-document YAML) and directories holding a kustomization.yaml
//   namespace          set on every object (all the objects used here are namespaced)
//   images             name → newName / newTag / digest, on containers and initContainers of pod templates
//   patches            `path:` strategic-merge patches naming their target by kind and metadata.name;
//                      maps merge, lists of containers / initContainers / env / volumes merge by `name`,
//                      volumeMounts by `mountPath`, container ports by `containerPort`, Service ports by
//                      `port`; every other list is replaced; `$patch` directives are refused
//   configMapGenerator / secretGenerator
//                      `envs` files and `literals`, behavior create | merge | replace, `options.labels`
//   generatorOptions   labels, disableNameSuffixHash
//
// Generated names get a content-hash suffix by kustomize's recipe (api/hasher: sha256 over Go's JSON of
// the kind, name, type and data; checked against that package's test vectors), applied once the whole
// tree is built, so a merged ConfigMap is named by its merged content; references to them are rewritten in
// envFrom, env valueFrom and volumes, the places the manifests name a ConfigMap or Secret.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseAllDocuments, parse as parseYaml } from 'yaml';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A Kubernetes object: kind, name and labels typed, the rest as YAML gave it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}
const asJson = (obj: K8sObject) => obj as unknown as JsonObject;

interface Generator {
  name: string;
  behavior?: 'create' | 'merge' | 'replace';
  envs?: string[];
  literals?: string[];
  type?: string;
  options?: { labels?: Record<string, string>; disableNameSuffixHash?: boolean };
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { path?: string }[];
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
  generatorOptions?: { labels?: Record<string, string>; disableNameSuffixHash?: boolean };
}

const SUPPORTED = new Set([
  'apiVersion',
  'kind',
  'resources',
  'namespace',
  'images',
  'patches',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
]);

/** Objects made by a generator, and whether their names get the hash suffix. */
const generated = new WeakMap<K8sObject, { hash: boolean }>();

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `KEY=value` lines; blank lines and `#` comments skipped; the value is everything after the first `=`. */
export function parseEnvFile(text: string, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 1)
      throw new Error(`${what}:${i + 1}: expected KEY=value (reading a key from the environment is unsupported)`);
    const key = line.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      throw new Error(`${what}:${i + 1}: ${JSON.stringify(key)} is no env name`);
    if (key in out) throw new Error(`${what}:${i + 1}: ${key} given twice`);
    out[key] = line.slice(eq + 1);
  }
  return out;
}

function generate(kind: 'ConfigMap' | 'Secret', g: Generator, dir: string, k: Kustomization): K8sObject {
  const data: Record<string, string> = {};
  for (const file of g.envs ?? []) {
    for (const [key, value] of Object.entries(parseEnvFile(readFileSync(join(dir, file), 'utf8'), join(dir, file)))) {
      data[key] = value;
    }
  }
  for (const literal of g.literals ?? []) {
    const eq = literal.indexOf('=');
    if (eq < 1) throw new Error(`${g.name}: literal ${JSON.stringify(literal)} is not KEY=value`);
    data[literal.slice(0, eq)] = literal.slice(eq + 1);
  }
  const labels = { ...k.generatorOptions?.labels, ...g.options?.labels };
  const obj: K8sObject = {
    apiVersion: 'v1',
    kind,
    metadata: { name: g.name, ...(Object.keys(labels).length ? { labels } : {}) },
    ...(kind === 'Secret'
      ? {
          type: g.type ?? 'Opaque',
          data: Object.fromEntries(Object.entries(data).map(([key, v]) => [key, Buffer.from(v).toString('base64')])),
        }
      : { data }),
  };
  const disable = g.options?.disableNameSuffixHash ?? k.generatorOptions?.disableNameSuffixHash ?? false;
  generated.set(obj, { hash: !disable });
  return obj;
}

const mergeKey = (field: string, items: Json[]): string | undefined => {
  if (['containers', 'initContainers', 'env', 'volumes'].includes(field)) return 'name';
  if (field === 'volumeMounts') return 'mountPath';
  if (field === 'ports') return items.some((p) => isObject(p) && 'containerPort' in p) ? 'containerPort' : 'port';
  return undefined;
};

/** Strategic merge of `patch` into `base` (a new value; neither argument is changed). */
export function strategicMerge(base: Json, patch: Json, field = ''): Json {
  if (isObject(patch)) {
    if ('$patch' in patch || Object.keys(patch).some((key) => key.startsWith('$'))) {
      throw new Error(`strategic-merge directives ($patch, $setElementOrder, …) are unsupported (at ${field})`);
    }
    if (!isObject(base)) return structuredClone(patch);
    const out: JsonObject = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete out[key];
      else out[key] = key in base ? strategicMerge(base[key]!, value, key) : structuredClone(value);
    }
    return out;
  }
  if (Array.isArray(patch) && Array.isArray(base)) {
    const key = mergeKey(field, [...base, ...patch]);
    if (!key) return structuredClone(patch);
    const out = [...base];
    for (const item of patch) {
      const id = isObject(item) ? item[key] : undefined;
      const at = out.findIndex((b) => isObject(b) && id !== undefined && b[key] === id);
      if (at >= 0) out[at] = strategicMerge(out[at]!, item, field);
      else out.push(structuredClone(item));
    }
    return out;
  }
  return structuredClone(patch);
}

const podSpecs = (obj: JsonObject): JsonObject[] => {
  const spec = obj['spec'];
  const template = isObject(spec) ? spec['template'] : undefined;
  const podSpec = isObject(template) ? template['spec'] : undefined;
  return isObject(podSpec) ? [podSpec] : [];
};

/** Every container and init container of an object's pod template. */
export function containersOf(obj: JsonObject): JsonObject[] {
  return podSpecs(obj).flatMap((spec) =>
    ['initContainers', 'containers'].flatMap((f) => {
      const list = spec[f];
      return Array.isArray(list) ? list.filter(isObject) : [];
    }),
  );
}

const imageName = (image: string) => image.replace(/@.*$/, '').replace(/:[^:/]+$/, '');

function build(dir: string): K8sObject[] {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map((f) => join(dir, f))
    .find((f) => existsSync(f));
  if (!file) throw new Error(`${dir}: no kustomization.yaml`);
  const k = parseYaml(readFileSync(file, 'utf8')) as Kustomization;
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length) throw new Error(`${file}: unsupported fields ${unsupported.join(', ')}`);

  const objects: K8sObject[] = [];
  for (const entry of k.resources ?? []) {
    const path = resolve(dir, entry);
    if (statSync(path).isDirectory()) {
      objects.push(...build(path));
      continue;
    }
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      if (doc.errors.length) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const obj = doc.toJS() as K8sObject | null;
      if (obj) objects.push(obj);
    }
  }

  const find = (kind: string, name: string) => objects.findIndex((o) => o.kind === kind && o.metadata.name === name);
  for (const [kind, list] of [
    ['ConfigMap', k.configMapGenerator ?? []],
    ['Secret', k.secretGenerator ?? []],
  ] as const) {
    for (const g of list) {
      const made = generate(kind, g, dir, k);
      const at = find(kind, g.name);
      const behavior = g.behavior ?? 'create';
      if (behavior === 'create') {
        if (at >= 0) throw new Error(`${file}: ${kind} ${g.name} exists already (behavior: merge or replace?)`);
        objects.push(made);
        continue;
      }
      const existing = objects[at];
      if (!existing) throw new Error(`${file}: ${kind} ${g.name} to ${behavior} does not exist`);
      const hash = generated.get(existing)?.hash ?? false;
      const data =
        behavior === 'merge' ? { ...(existing['data'] as JsonObject), ...(made['data'] as JsonObject) } : made['data'];
      const labels = { ...existing.metadata.labels, ...made.metadata.labels };
      const merged = { ...existing, metadata: { ...existing.metadata, labels }, data } as K8sObject;
      generated.set(merged, { hash });
      objects[at] = merged;
    }
  }

  for (const { path, ...rest } of k.patches ?? []) {
    if (!path || Object.keys(rest).length) throw new Error(`${file}: only \`path:\` patches are supported`);
    const patch = parseYaml(readFileSync(join(dir, path), 'utf8')) as K8sObject;
    const at = find(patch.kind, patch.metadata.name);
    if (at < 0) throw new Error(`${path}: no ${patch.kind} ${patch.metadata.name} to patch`);
    const hash = generated.get(objects[at]!);
    objects[at] = strategicMerge(asJson(objects[at]!), asJson(patch)) as unknown as K8sObject;
    if (hash) generated.set(objects[at], hash);
  }

  for (const obj of objects) {
    if (k.namespace) obj.metadata.namespace = k.namespace;
    for (const container of containersOf(asJson(obj))) {
      const image = container['image'];
      if (typeof image !== 'string') continue;
      const rule = k.images?.find((i) => i.name === imageName(image));
      if (!rule) continue;
      const tag = /:[^:/]+$/.exec(image.replace(/@.*$/, ''))?.[0];
      const name = rule.newName ?? rule.name;
      container['image'] = rule.digest
        ? `${name}@${rule.digest}`
        : `${name}${rule.newTag ? `:${rule.newTag}` : (tag ?? '')}`;
    }
  }
  return objects;
}

/** kustomize's name suffix: the first 10 hex digits of a sha256 over the object, with 0 1 3 a e swapped out. */
export function nameHash(obj: K8sObject): string {
  const sorted = (value: Json): Json =>
    isObject(value)
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((key) => [key, sorted(value[key]!)]),
        )
      : value;
  // Go's encoding/json escapes <, >, & and the two line separators; MAIL_FROM has <…>
  const goJson = (value: Json) =>
    JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  // no data at all is encoded as "" (api/hasher)
  const data = isObject(obj['data']) && Object.keys(obj['data']).length ? obj['data'] : '';
  const encoded = goJson(
    sorted(
      (obj.kind === 'Secret'
        ? { kind: 'Secret', type: obj['type'] ?? 'Opaque', name: obj.metadata.name, data }
        : { kind: 'ConfigMap', name: obj.metadata.name, data }) as unknown as Json,
    ),
  );
  const swap: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return [...createHash('sha256').update(encoded).digest('hex').slice(0, 10)].map((c) => swap[c] ?? c).join('');
}

/** Rewrites every ConfigMap / Secret reference in pod templates through `rename` (kind, old name → new name). */
function renameReferences(obj: JsonObject, rename: (kind: 'ConfigMap' | 'Secret', name: string) => string): void {
  const renameIn = (holder: Json, field: string, kind: 'ConfigMap' | 'Secret') => {
    if (isObject(holder) && typeof holder[field] === 'string') holder[field] = rename(kind, holder[field]);
  };
  for (const container of containersOf(obj)) {
    for (const from of Array.isArray(container['envFrom']) ? container['envFrom'] : []) {
      if (!isObject(from)) continue;
      renameIn(from['configMapRef'] ?? null, 'name', 'ConfigMap');
      renameIn(from['secretRef'] ?? null, 'name', 'Secret');
    }
    for (const env of Array.isArray(container['env']) ? container['env'] : []) {
      const valueFrom = isObject(env) ? env['valueFrom'] : undefined;
      if (!isObject(valueFrom)) continue;
      renameIn(valueFrom['configMapKeyRef'] ?? null, 'name', 'ConfigMap');
      renameIn(valueFrom['secretKeyRef'] ?? null, 'name', 'Secret');
    }
  }
  for (const spec of podSpecs(obj)) {
    for (const volume of Array.isArray(spec['volumes']) ? spec['volumes'] : []) {
      if (!isObject(volume)) continue;
      renameIn(volume['configMap'] ?? null, 'name', 'ConfigMap');
      renameIn(volume['secret'] ?? null, 'secretName', 'Secret');
    }
  }
}

/** `kustomize build <dir>`, for the subset described at the top of this file. */
export function kustomizeBuild(dir: string): K8sObject[] {
  const objects = build(resolve(dir));
  const names = new Map<string, string>();
  for (const obj of objects) {
    if (!generated.get(obj)?.hash) continue;
    const renamed = `${obj.metadata.name}-${nameHash(obj)}`;
    names.set(`${obj.kind}/${obj.metadata.name}`, renamed);
    obj.metadata.name = renamed;
  }
  for (const obj of objects) renameReferences(asJson(obj), (kind, name) => names.get(`${kind}/${name}`) ?? name);
  return objects;
}

/** The directory of this repository's deploy/kubernetes. */
export const KUBERNETES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'deploy', 'kubernetes');
