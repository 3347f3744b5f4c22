// Generated HTTP requests for the REST fuzz, one arbitrary per route of the OpenAPI document.
// Each part (path parameters, query, body) is drawn from three arms: values the route's own zod
// contract accepts (the document's JSON Schema, filtered by the contract the route validates
// with), those values mutated (a field dropped, doubled, set to a hostile value or the wrong type),
// and hostile values outright. Tokens, headers and encodings vary alongside.
import {
  brokenJsonText,
  brokenPercent,
  fc,
  hostileNumber,
  hostileString,
  hostileStringUpTo,
  jsonText,
  longString,
  mutated,
  percentEncode,
  withOddChars,
} from '@ratewire/testkit/fuzz';
import { arbitraryFor, type JsonSchema, type SchemaArbitraryOptions } from '@ratewire/testkit/json-schema-arbitrary';
import type { z } from 'zod';

import type { RouteSpec } from '../src/http/route.ts';
import type { FuzzApi, HttpCase } from './fuzz-support.ts';

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: JsonSchema;
}

export interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  security?: unknown[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
}

export interface Route {
  method: string;
  path: string;
  op: Operation;
}

export function routesOf(doc: OpenApiDocument): Route[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
}

/** Hostile strings for URLs: the long ones stay below Node's 16 KB limit on a request head. */
const hostileInUrl = hostileStringUpTo(1000);

const day = fc
  .date({ min: new Date('1985-01-01T00:00:00Z'), max: new Date('2035-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

const decimal = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.bigInt({ min: 1n, max: 10n ** 9n }), fc.nat({ max: 9999 }))
      .map(([i, d]) => `${i}.${String(d).padStart(4, '0')}`),
  },
  { weight: 2, arbitrary: fc.double({ min: 0.01, max: 1e6, noNaN: true }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '75.5',
      75.5,
      '0.01',
      '1',
      '0.000000001',
      `1${'0'.repeat(29)}`,
      `${'9'.repeat(30)}.${'9'.repeat(30)}`,
      1e-7,
      1e21,
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('0', '-1', '1e3', ' 75.5 ', '75,5', '', '+1', '0x10', 1e308, -0) },
  { weight: 1, arbitrary: hostileNumber },
);

/** Header values Node's client accepts: any latin1 character but controls. */
export const headerText = (maxLength: number) =>
  fc.string({
    unit: fc
      .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
      .map((c) => String.fromCharCode(c)),
    maxLength,
  });

/** Field names whose schema alone rarely yields a value that passes: values of the right kind, mostly valid. */
function hints(f: FuzzApi): Record<string, fc.Arbitrary<unknown>> {
  const { tokens: t, seeded: s } = f;
  const emails = [t.user.email, t.other.email, t.admin.email];
  const code = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...s.currencyCodes) },
    { weight: 1, arbitrary: fc.constantFrom('XXX', 'usd', ' eur ', 'US', 'USDT', 'ЕUR') },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Z]{3}$/) },
  );
  return {
    email: fc.oneof(fc.constantFrom(...emails), fc.emailAddress(), withOddChars(fc.emailAddress())),
    username: fc.oneof(fc.constantFrom(...emails), fc.emailAddress()),
    password: fc.oneof(
      fc.constantFrom(t.user.password, t.admin.password, 'wrong-password'),
      fc.string({ minLength: 8, maxLength: 40 }),
    ),
    name: withOddChars(fc.string({ minLength: 1, maxLength: 40 })),
    code,
    currency: code,
    from: fc.oneof(code, day),
    to: fc.oneof(code, day),
    date: day,
    rate: decimal,
    exchange_rate: decimal,
    denomination: decimal,
    amount: decimal,
    request_id: withOddChars(
      fc.oneof(fc.constantFrom('fuzz-seed', 'r-1', 'r-2'), fc.string({ minLength: 1, maxLength: 30 })),
    ),
    callback_url: fc.oneof(
      { weight: 3, arbitrary: fc.webUrl({ validSchemes: ['http', 'https'] }) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          'http://127.0.0.1:9/hook',
          'http://169.254.169.254/latest/meta-data/',
          'http://[::1]/',
          'https://example.com/cb',
          'ftp://example.com/',
          'http://user:pw@example.com/',
          `https://example.com/${'a'.repeat(3000)}`,
        ),
      },
      { weight: 1, arbitrary: withOddChars(fc.webUrl()) },
    ),
    symbol: fc.oneof(
      fc.constantFrom(...s.binanceSymbols, ...s.currencyCodes, 'NOPEUSDT'),
      fc.stringMatching(/^[A-Z0-9]{2,12}$/),
    ),
    symbols: fc.oneof(
      fc.constantFrom('USD,EUR', 'BTCUSDT,ETHUSDT', 'USD,,EUR', ' usd , eur ', 'XXX', ',', 'BTCUSDT'),
      fc.array(fc.oneof(code, fc.constantFrom(...s.binanceSymbols)), { maxLength: 6 }).map((xs) => xs.join(',')),
      fc.integer({ min: 400, max: 1200 }).map((n) => Array.from({ length: n }, (_, i) => `S${i}`).join(',')),
    ),
    limit: fc.oneof(fc.integer({ min: 0, max: 1001 }), fc.constantFrom('1e3', '1.5', '-1', '99999999999999999999')),
    offset: fc.oneof(fc.nat({ max: 20 }), fc.constantFrom('1e21', '9007199254740993', '-0', '0x10')),
  };
}

export interface CaseContext {
  f: FuzzApi;
  doc: OpenApiDocument;
  /** The route as the api registered it: the zod schemas it validates with. */
  spec: RouteSpec;
}

function schemaOptions(ctx: CaseContext): SchemaArbitraryOptions {
  return {
    resolve: (ref) => {
      const schema = ctx.doc.components.schemas[ref.replace('#/components/schemas/', '')];
      if (!schema) throw new Error(`unknown schema ${ref}`);
      return schema;
    },
    hints: hints(ctx.f),
  };
}

/** Values of the documented shape that the route's contract accepts (a rare one gets through at all). */
function accepted<T>(documented: fc.Arbitrary<T>, contract: z.ZodType | undefined): fc.Arbitrary<T> {
  return contract ? documented.filter((v) => contract.safeParse(v).success) : documented;
}

/** Values for a path parameter: ids that exist, ids of the documented shape, anything. */
function pathValue(ctx: CaseContext, route: Route, param: Parameter, o: SchemaArbitraryOptions): fc.Arbitrary<string> {
  const s = ctx.f.seeded;
  const known =
    param.name === 'id'
      ? route.path.includes('exchange-jobs')
        ? [s.jobId, s.otherJobId]
        : route.path.includes('tasks')
          ? [s.taskId]
          : s.currencyIds.map(String)
      : param.name === 'date'
        ? s.cbrDates
        : s.binanceSymbols;
  const documented = arbitraryFor(param.schema, o, param.name).map((v) => percentEncode(String(v)));
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...known) },
    { weight: 4, arbitrary: documented },
    { weight: 2, arbitrary: hostileInUrl.map(percentEncode) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('0', '-1', '1.5', '1e3', '0x10', '99999999999999999999', '2147483648', 'NaN', '..'),
    },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...known), brokenPercent).map(([k, b]) => `${k}${b}`) },
  );
}

type Pairs = [string, string][];

const encodePairs = (pairs: Pairs) =>
  pairs.length ? `?${pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')}` : '';

function queryString(ctx: CaseContext, route: Route, o: SchemaArbitraryOptions): fc.Arbitrary<string> {
  const params = (route.op.parameters ?? []).filter((p) => p.in === 'query');
  if (!params.length) {
    return fc.oneof(
      { weight: 8, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: fc.tuple(hostileInUrl, hostileInUrl).map(([k, v]) => encodePairs([[k, v]])) },
      { weight: 1, arbitrary: brokenPercent.map((b) => `?x=${b}`) },
    );
  }
  const documented = fc.record(
    Object.fromEntries(params.map((p) => [p.name, arbitraryFor(p.schema, o, p.name).map(String)])),
    { requiredKeys: params.filter((p) => p.required).map((p) => p.name) },
  );
  const valid = accepted(documented, ctx.spec.query).map((q) => encodePairs(Object.entries(q)));
  const one = (p: Parameter): fc.Arbitrary<Pairs> =>
    fc.oneof(
      { weight: 6, arbitrary: arbitraryFor(p.schema, o, p.name).map((v): Pairs => [[p.name, String(v)]]) },
      { weight: 2, arbitrary: hostileInUrl.map((v): Pairs => [[p.name, v]]) },
      // repeated keys become arrays for the query parser
      {
        weight: 1,
        arbitrary: fc.tuple(hostileInUrl, hostileInUrl).map(([a, b]): Pairs => [
          [p.name, a],
          [p.name, b],
        ]),
      },
      { weight: p.required ? 1 : 4, arbitrary: fc.constant<Pairs>([]) },
    );
  const extra = fc.oneof(
    { weight: 6, arbitrary: fc.constant<Pairs>([]) },
    { weight: 1, arbitrary: fc.tuple(hostileInUrl, hostileInUrl).map(([k, v]): Pairs => [[k, v]]) },
    { weight: 1, arbitrary: fc.constantFrom<Pairs>([['__proto__', 'x']], [['constructor', 'x']], [['a[b]', 'c']]) },
  );
  const mixed = fc
    .tuple(fc.tuple(...params.map(one), extra), fc.option(brokenPercent, { freq: 10 }))
    .map(([groups, broken]) => {
      const text = encodePairs(groups.flat());
      return broken ? `${text || '?'}${text ? '&' : ''}x=${broken}` : text;
    });
  return fc.oneof({ weight: 1, arbitrary: valid }, { weight: 1, arbitrary: mixed });
}

interface BodyPart {
  body?: string | Buffer;
  headers: Record<string, string>;
}

const json = (v: unknown, type = 'application/json'): BodyPart => ({
  body: jsonText(v),
  headers: { 'content-type': type },
});

/** Bytes that are not quite JSON, sent as they are. */
const broken = brokenJsonText.map((b): BodyPart => ({ body: b, headers: { 'content-type': 'application/json' } }));

/** Bodies a route with a body gets besides the generated ones: real credentials, a taken email. */
function knownBodies(ctx: CaseContext): fc.Arbitrary<unknown>[] {
  const t = ctx.f.tokens;
  if (ctx.spec.operationId === 'login') {
    return [
      fc.constantFrom(
        { email: t.user.email, password: t.user.password },
        { email: t.admin.email.toUpperCase(), password: t.admin.password },
        { username: t.other.email, password: t.other.password, grant_type: 'password' },
      ),
    ];
  }
  if (ctx.spec.operationId === 'register') return [fc.constant({ email: t.user.email, password: 'long-enough-pw' })];
  return [];
}

function bodyPart(ctx: CaseContext, route: Route, o: SchemaArbitraryOptions): fc.Arbitrary<BodyPart> {
  const content = route.op.requestBody?.content;
  const schema = content?.['application/json']?.schema;
  if (!schema) {
    return fc.oneof(
      { weight: 16, arbitrary: fc.constant<BodyPart>({ headers: {} }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => json(v)) },
      { weight: 1, arbitrary: broken },
    );
  }
  const documented = arbitraryFor(schema, o);
  const valid = accepted(documented, ctx.spec.body);
  const known = knownBodies(ctx);
  const variants: fc.WeightedArbitrary<BodyPart>[] = [
    { weight: 10, arbitrary: valid.map((v) => json(v)) },
    { weight: 8, arbitrary: mutated(valid).map((v) => json(v)) },
    { weight: 2, arbitrary: mutated(documented).map((v) => json(v)) },
    ...known.map((arbitrary) => ({ weight: 3, arbitrary: arbitrary.map((v) => json(v)) })),
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          valid,
          fc.constantFrom(
            'application/json; charset=utf-8',
            'APPLICATION/JSON',
            'application/merge-patch+json',
            'application/json; charset=latin1',
            'application/json; charset=utf-16',
            'text/plain',
            'text/json',
            'multipart/form-data; boundary=x',
            'application/x-www-form-urlencoded',
          ),
        )
        .map(([v, type]) => json(v, type)),
    },
    { weight: 2, arbitrary: broken },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip'))
        .map(([v, enc]) => ({
          body: jsonText(v),
          headers: { 'content-type': 'application/json', 'content-encoding': enc },
        })),
    },
    { weight: 1, arbitrary: fc.constant<BodyPart>({ headers: { 'content-type': 'application/json' } }) },
  ];
  // the largest bodies: past the 2 MB limit, and (for bills) the most allowed and one more
  const resolved = schema.$ref ? o.resolve(schema.$ref) : schema;
  const many = Array.from({ length: 10_001 }, (_, i) => ({ denomination_id: i, denomination: '1', count: 1 }));
  const large: fc.Arbitrary<BodyPart>[] = [
    fc.constant({
      body: JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }),
      headers: { 'content-type': 'application/json' },
    }),
  ];
  if (resolved.properties?.bills) {
    large.push(
      fc
        .tuple(valid, fc.constantFrom(many, many.slice(0, 10_000)))
        .map(([v, bills]) => json({ ...(v as object), bills })),
    );
  }
  variants.push({ weight: 1, arbitrary: fc.oneof(...large) });
  if (content?.['application/x-www-form-urlencoded']) {
    variants.push({
      weight: 6,
      arbitrary: fc
        .tuple(fc.oneof(valid, ...known), fc.array(fc.tuple(hostileString, hostileString), { maxLength: 2 }))
        .map(([v, extra]) => {
          const fields = Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)] as const);
          const text = [...fields, ...extra].map(([k, x]) => `${percentEncode(k)}=${percentEncode(x)}`).join('&');
          return { body: text, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
        }),
    });
  }
  return fc.oneof(...variants);
}

function authHeader(ctx: CaseContext, route: Route): fc.Arbitrary<string | undefined> {
  const t = ctx.f.tokens;
  const good = fc.constantFrom(`Bearer ${t.user.token}`, `Bearer ${t.other.token}`, `Bearer ${t.admin.token}`);
  const bad = fc.oneof(
    fc.constantFrom(
      `Bearer ${t.deleted}`,
      `Bearer ${t.nonUuidSub}`,
      `Bearer ${t.nonUuidAdmin}`,
      `Bearer ${t.expired}`,
      `Bearer ${t.wrongSecret}`,
      `Bearer ${t.unsigned}`,
      'Bearer',
      'Bearer ',
      'Bearer a b',
      `bearer   ${t.user.token}`,
      `Basic ${Buffer.from('a:b').toString('base64')}`,
      `Bearer ${'a'.repeat(5000)}`,
      `Bearer ${t.user.token}x`,
    ),
    headerText(60).map((s) => `Bearer ${s}`),
  );
  const none = fc.constant(undefined);
  return route.op.security?.length
    ? fc.oneof({ weight: 8, arbitrary: good }, { weight: 3, arbitrary: bad }, { weight: 1, arbitrary: none })
    : fc.oneof({ weight: 6, arbitrary: none }, { weight: 2, arbitrary: good }, { weight: 2, arbitrary: bad });
}

const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    // every login case comes from an address of its own (the api trusts X-Forwarded-For here)
    'x-forwarded-for': fc.oneof(
      { weight: 8, arbitrary: fc.ipV4() },
      { weight: 1, arbitrary: fc.ipV6() },
      { weight: 1, arbitrary: headerText(40) },
    ),
    'x-request-id': fc.oneof(headerText(140), fc.constantFrom('abc', 'a'.repeat(128), 'a'.repeat(129), '../x')),
    'if-none-match': fc.oneof(headerText(60), fc.constantFrom('*', '"x"', 'W/"x"', '"",""')),
    'accept-encoding': fc.oneof(
      fc.constantFrom('gzip', 'br', 'gzip;q=0, br;q=0', '*', '*;q=0', 'identity;q=0'),
      headerText(60),
    ),
    accept: fc.constantFrom('*/*', 'text/csv', 'application/x-ndjson', 'text/html', ''),
  },
  { requiredKeys: ['x-forwarded-for'] },
);

/** Requests for one route of the document. */
export function routeCase(ctx: CaseContext, route: Route): fc.Arbitrary<HttpCase> {
  const o = schemaOptions(ctx);
  const pathParams = (route.op.parameters ?? []).filter((p) => p.in === 'path');
  const path = fc
    .tuple(...pathParams.map((p) => pathValue(ctx, route, p, o)))
    .map((values) => pathParams.reduce((acc, p, i) => acc.replace(`{${p.name}}`, values[i]!), route.path));
  return fc
    .record({
      path,
      query: queryString(ctx, route, o),
      body: bodyPart(ctx, route, o),
      auth: authHeader(ctx, route),
      extra: extraHeaders,
    })
    .map(({ path: p, query, body, auth, extra }) => ({
      method: route.method,
      path: `${p}${query}`,
      headers: { ...extra, ...body.headers, ...(auth === undefined ? {} : { authorization: auth }) },
      ...(body.body === undefined ? {} : { body: body.body }),
    }));
}

/** Paths no route declares, and methods a path does not have. */
export const unlistedCase: fc.Arbitrary<HttpCase> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
    path: fc.oneof(
      fc
        .tuple(
          fc.constantFrom(
            '/api/v1/',
            '/api/v1/rates/',
            '/api/v1/currencies/1/',
            '/api/v2/',
            '/',
            '/docs/',
            '/symbols/get/',
          ),
          fc.array(hostileInUrl.map(percentEncode), { maxLength: 3 }),
        )
        .map(([prefix, segments]) => `${prefix}${segments.join('/')}`),
      fc.constantFrom('/%2e%2e/%2e%2e/etc/passwd', '/api/v1/%00', '/api/v1/currencies/%E0%A4%A', '/ws', '/metrics?x=%'),
      longString(1500).map((s) => `/${percentEncode(s)}`),
    ),
    body: fc.option(
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      { freq: 3 },
    ),
    auth: fc.constantFrom(undefined, `Bearer ${'x'.repeat(10)}`),
  })
  .map(({ method, path, body, auth }) => ({
    method,
    path,
    headers: {
      ...(body === null ? {} : { 'content-type': 'application/json' }),
      ...(auth === undefined ? {} : { authorization: auth }),
    },
    ...(body === null || method === 'GET' || method === 'HEAD' ? {} : { body }),
  }));
