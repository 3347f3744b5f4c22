// Property-based fuzzing for the test suites (fast-check). One seed per run: FUZZ_SEED=<n> replays
// a run exactly (every property derives its own seed from it and its name); FUZZ_SCALE=<x>
// multiplies every property's case count for a longer local run. A failing property throws with
// the run's seed, fast-check's own seed and path, and the (shrunk) counterexample.
// Import as `@ratewire/testkit/fuzz`.
import fc from 'fast-check';

function parseSeed(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${JSON.stringify(raw)}`);
  return seed;
}

function parseScale(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`FUZZ_SCALE must be a positive number, got ${raw}`);
  return scale;
}

/** The random seed of this run: FUZZ_SEED when set, else random (printed, so that a failure can be replayed). */
export const FUZZ_SEED = parseSeed(process.env.FUZZ_SEED);
const FUZZ_SCALE = parseScale(process.env.FUZZ_SCALE);

/** `n` cases, times FUZZ_SCALE. */
export const runs = (n: number): number => Math.max(1, Math.round(n * FUZZ_SCALE));

/** FNV-1a of the property's name, mixed with the run's seed: each property gets a stable seed of its own. */
function seedFor(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return (h ^ FUZZ_SEED) | 0;
}

const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;

const MAX_SHRINK_RUNS = 300;

/** Cases run per property in this process (for the summary line). */
const tally = new Map<string, number>();

/**
 * Runs `check` on `count` generated values. Resolves with the number of cases run; rejects with
 * the replay instructions and the counterexample when a case fails (after shrinking it).
 */
export async function fuzz<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  check: (value: T) => Promise<void>,
  count: number,
): Promise<number> {
  // shrinking re-runs the case against the live system: after a failure, at most MAX_SHRINK_RUNS
  // more runs (later ones pass at once, which ends the shrinking with the smallest failure so far)
  let failed = false;
  let shrinkRuns = 0;
  const guarded = async (value: T) => {
    if (failed && ++shrinkRuns > MAX_SHRINK_RUNS) return;
    try {
      await check(value);
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  const details = await fc.check(fc.asyncProperty(arbitrary, guarded), {
    seed: seedFor(name),
    numRuns: count,
    // FUZZ_SHRINK=0 reports the first failing case as it was generated
    endOnFailure: process.env.FUZZ_SHRINK === '0',
  });
  tally.set(name, (tally.get(name) ?? 0) + details.numRuns);
  if (details.failed) {
    const error =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    const message = [
      `fuzz "${name}" failed after ${details.numRuns} case(s); replay with FUZZ_SEED=${FUZZ_SEED}`,
      `(fast-check seed ${details.seed}, path "${details.counterexamplePath ?? ''}", shrunk ${details.numShrinks} time(s))`,
      `counterexample: ${clip(fc.stringify(details.counterexample), 3000)}`,
      `error: ${clip(error, 3000)}`,
    ].join('\n');
    process.stderr.write(`${message}\n`);
    throw new Error(message);
  }
  return details.numRuns;
}

/** One line: cases per property and in total, and the random seed. */
export function fuzzSummary(): string {
  const total = [...tally.values()].reduce((a, b) => a + b, 0);
  const parts = [...tally].map(([name, n]) => `${name} ${n}`).join(', ');
  return `fuzz: ${total} cases (${parts}); FUZZ_SEED=${FUZZ_SEED}`;
}

/** Total cases run in this process so far. */
export const fuzzCases = (): number => [...tally.values()].reduce((a, b) => a + b, 0);

// ---- hostile values ----------------------------------------------------------------------

/** A lone (unpaired) surrogate code unit. */
export const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

const oddChar = fc.oneof(
  loneSurrogate,
  fc.constantFrom('\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\u00a0', '\u00ad', '\u2028', '\u2029'),
  fc.constantFrom('\ufeff', '\u200b', '\u200d', '\u202e', '\u2066', '\ufffd', '\uffff', '\u0301', '\u0338'),
  fc.constantFrom('ß', 'ſ', 'ﬀ', 'İ', 'ı', 'Ⅻ', 'µ', 'K', '𝟙', '١', '০', '😀', '👩‍👩‍👧', '🇷🇺', '𓀀'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);

/** Strings a careless parser trips on: NUL, lone surrogates, odd Unicode, injections, number look-alikes. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  'USD\u0000',
  '\ud800',
  '\udfff',
  'a\ud800b',
  '\udbff\udbff',
  '\ufeffUSD',
  'us\u200bd',
  'U\u0308SD',
  'ｕｓｄ',
  'uſd',
  'straße',
  '\u202eDSU',
  '\r\n',
  '\t',
  '%00',
  '%',
  '%ZZ',
  '\\',
  '\\u0000',
  '"',
  "'",
  "' OR '1'='1",
  "'; drop table users; --",
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '${7*7}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e308',
  '-1e308',
  '1e-400',
  '1e999',
  '0x1F',
  '0b11',
  '1_000',
  ' 1 ',
  '+1',
  '-0',
  '00001',
  '.5',
  '5.',
  '1,5',
  '١٢٣',
  '9'.repeat(400),
  `0.${'0'.repeat(300)}1`,
  'a@b',
  '@',
  'a@@b.c',
  'x@localhost',
  'http://127.0.0.1/',
  'http://169.254.169.254/latest/meta-data/',
  'http://[::1]/',
  'http://0x7f000001/',
  'http://user:pass@example.com/',
  'javascript:alert(1)',
  'file:///etc/passwd',
  'ws://example.com/',
];

/** A long string: up to `max` characters of one repeated piece (default 70,000: past any field limit). */
export const longString = (max = 70_000) =>
  fc
    .tuple(fc.constantFrom('a', '\u0000', '\ud800', 'é', '😀', '9', ' ', '%'), fc.integer({ min: 255, max }))
    .map(([piece, n]) => piece.repeat(Math.ceil(n / piece.length)).slice(0, n));

/**
 * Any hostile string: a listed one, random odd characters, a long one (up to `longest` characters),
 * or a plain one with odd characters inside.
 */
export const hostileStringUpTo = (longest: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
    { weight: 3, arbitrary: fc.string({ unit: oddChar, maxLength: 12 }) },
    { weight: 1, arbitrary: longString(longest) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.string({ maxLength: 10 }), oddChar, fc.string({ maxLength: 10 }))
        .map(([a, odd, b]) => `${a}${odd}${b}`),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  );

/** Hostile strings, long ones past any field limit (70,000 characters). */
export const hostileString: fc.Arbitrary<string> = hostileStringUpTo(70_000);

/** Inserts odd characters into strings of a valid shape now and then. */
export const withOddChars = (valid: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: valid },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, oddChar, fc.nat())
        .map(([s, odd, at]) => s.slice(0, at % (s.length + 1)) + odd + s.slice(at % (s.length + 1))),
    },
  );

/** Numbers at the edges: huge, tiny, negative zero, past 2^53, floats that are not what they look like. */
export const HOSTILE_NUMBERS: readonly number[] = [
  0,
  -0,
  -1,
  1,
  0.1,
  0.30000000000000004,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  1e-7,
  1e21,
  1e30,
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  Number.MAX_SAFE_INTEGER,
  123456789.12345679,
  75.5,
  1.005,
];

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_NUMBERS) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.integer() },
);

/** JSON number literals JSON.parse turns into something else: Infinity, lost digits, -0. */
export const hostileNumberLiteral: fc.Arbitrary<string> = fc.constantFrom(
  '1e999',
  '-1e999',
  '1e-999',
  `1${'0'.repeat(400)}`,
  `0.${'0'.repeat(400)}1`,
  '123456789012345678901234567890',
  '9007199254740993',
  '-0',
  '1E+2',
  '0.1e1',
);

// ---- JSON text with what JSON.stringify cannot write -------------------------------------

/** A JSON fragment written as is (deep nesting, number literals, broken text). */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** An object written with its entries in order, duplicates included (`{"a":1,"a":2}`). */
export class JsonEntries {
  readonly entries: readonly [string, unknown][];
  constructor(entries: readonly [string, unknown][]) {
    this.entries = entries;
  }
}

/** Serializes a value that may hold RawJson and JsonEntries (iteratively deep values are RawJson). */
export function jsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof JsonEntries) {
    return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map((v) => jsonText(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return jsonText(new JsonEntries(Object.entries(value).filter(([, v]) => v !== undefined)));
  }
  if (value === undefined) return 'null';
  return JSON.stringify(value);
}

/** `depth` nested arrays or objects, as JSON text. */
export const deepJson = (depth: number, kind: 'array' | 'object'): RawJson =>
  new RawJson(
    kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );

/** A hostile JSON value of any type (leaves from the hostile strings and numbers, some deep nesting). */
export const hostileJsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: hostileString },
    { weight: 3, arbitrary: hostileNumber },
    { weight: 1, arbitrary: hostileNumberLiteral.map((t) => new RawJson(t)) },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 50, max: 20_000 }), fc.constantFrom('array' as const, 'object' as const))
        .map(([d, k]) => deepJson(d, k)),
    },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.tuple(fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor')), tie('value')), {
          maxLength: 4,
        })
        .map((entries) => new JsonEntries(entries)),
    },
  ),
})).value;

/**
 * Variants of a valid-shaped object: a field dropped, set to a hostile value or the wrong type,
 * given twice (duplicate keys), an unknown or `__proto__` field added, or the whole replaced.
 */
export function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const entriesOf = (v: unknown): [string, unknown][] =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof RawJson)
      ? v instanceof JsonEntries
        ? [...v.entries]
        : Object.entries(v as Record<string, unknown>)
      : [];
  const pick = <X>(xs: X[], i: number) => xs[i % Math.max(1, xs.length)];
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    {
      weight: 2,
      arbitrary: fc.tuple(valid, fc.nat(), hostileJsonValue).map(([v, i, bad]) => {
        const entries = entriesOf(v);
        const key = pick(entries, i)?.[0];
        return key === undefined ? v : new JsonEntries(entries.map(([k, x]) => [k, k === key ? bad : x]));
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.nat()).map(([v, i]) => {
        const entries = entriesOf(v);
        const key = pick(entries, i)?.[0];
        return new JsonEntries(entries.filter(([k]) => k !== key));
      }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(valid, fc.nat(), hostileJsonValue, fc.boolean()).map(([v, i, bad, first]) => {
        const entries = entriesOf(v);
        const key = pick(entries, i)?.[0] ?? 'id';
        const dup: [string, unknown] = [key, bad];
        return new JsonEntries(first ? [dup, ...entries] : [...entries, dup]);
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          valid,
          fc.constantFrom('__proto__', 'constructor', 'role', 'id', 'user_id', 'status', 'extra'),
          hostileJsonValue,
        )
        .map(([v, key, extra]) => new JsonEntries([...entriesOf(v), [key, extra]])),
    },
    { weight: 1, arbitrary: valid.map((v) => [v]) },
    { weight: 1, arbitrary: hostileJsonValue },
  );
}

/** Request bodies that are not JSON at all, or only nearly. */
export const brokenJsonText: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.constantFrom('', ' ', 'nul', 'undefined', '{', '[', '{"a":}', '{"a" 1}', "{'a':1}", '{"a":1,}', '[1,]'),
  fc.constantFrom('{"a":"\\u12"}', '{"a":"\\x41"}', '"\u0000"', '{"a":"\u0001"}', '\ufeff{}', '{}garbage', '{}{}'),
  fc.constantFrom(
    Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), // {"a":"<CESU-8 surrogate>"}
    Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // invalid UTF-8
    Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), // UTF-16LE with a BOM
    Buffer.from([0x1f, 0x8b, 0x08, 0x00]), // a truncated gzip header
  ),
  fc.integer({ min: 1000, max: 200_000 }).map((d) => '['.repeat(d)),
  fc.integer({ min: 1000, max: 200_000 }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`),
);

// ---- percent-encoding that can carry anything ---------------------------------------------

/**
 * Percent-encodes every UTF-16 code unit, lone surrogates included (as their WTF-8 bytes, which
 * a strict decoder refuses): encodeURIComponent would throw on them instead.
 */
export function percentEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out +=
        `%${(0xe0 | (c >> 12)).toString(16)}%${(0x80 | ((c >> 6) & 0x3f)).toString(16)}%${(0x80 | (c & 0x3f)).toString(16)}`.toUpperCase();
    } else {
      out += encodeURIComponent(text[i]!);
    }
  }
  return out;
}

/** Query or path text that is not even valid percent-encoding. */
export const brokenPercent = fc.constantFrom('%', '%2', '%G0', '%E0%A4', '%ED%A0%80', '%C0%80', '%FF', '%00', '%25%');

export { fc };
