// fast-check arbitraries from the JSON Schemas of an OpenAPI document (the api's, generated from
// the zod contracts): values of the documented shape, with hints by field name where a schema
// alone rarely yields a value that gets past validation (an email, a decimal, a URL).
// Import as `@ratewire/testkit/json-schema-arbitrary`.
import fc from 'fast-check';

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
}

export interface SchemaArbitraryOptions {
  /** Resolves `#/components/schemas/X`. */
  resolve(ref: string): JsonSchema;
  /** By property or parameter name: mixed half and half with the schema's own values. */
  hints?: Record<string, fc.Arbitrary<unknown>>;
  /** Longest generated array (a schema's maxItems can be 10,000); default 4. */
  maxArrayLength?: number;
  /** Longest generated string when the schema sets no smaller limit; default 40. */
  maxStringLength?: number;
}

function clampLength(min: number | undefined, max: number | undefined, cap: number) {
  const minLength = min ?? 0;
  return { minLength, maxLength: Math.max(minLength, Math.min(max ?? cap, cap)) };
}

function stringArbitrary(s: JsonSchema, o: SchemaArbitraryOptions): fc.Arbitrary<string> {
  if (s.format === 'uuid') return fc.uuid();
  if (s.format === 'email') return fc.emailAddress();
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern));
  return fc.string({ ...clampLength(s.minLength, s.maxLength, o.maxStringLength ?? 40), unit: 'grapheme' });
}

function numberArbitrary(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const lo = s.minimum ?? s.exclusiveMinimum;
  const hi = s.maximum ?? s.exclusiveMaximum;
  if (integer) {
    const min = Math.max(lo ?? -(2 ** 31), Number.MIN_SAFE_INTEGER);
    const max = Math.min(hi ?? 2 ** 31, Number.MAX_SAFE_INTEGER);
    // small values are the interesting ones: a page of 1..1000, an id that exists
    return fc.oneof(
      fc.integer({ min: Math.max(min, -10), max: Math.max(Math.min(max, 100), Math.max(min, -10)) }),
      fc.integer({ min, max }),
    );
  }
  return fc.double({ min: lo ?? -1e6, max: hi ?? 1e6, noNaN: true, noDefaultInfinity: true });
}

/** An arbitrary of values matching `schema`; `name` is the property or parameter it is for. */
export function arbitraryFor(
  schema: JsonSchema,
  options: SchemaArbitraryOptions,
  name?: string,
): fc.Arbitrary<unknown> {
  const own = fromSchema(schema, options);
  const hint = name === undefined ? undefined : options.hints?.[name];
  return hint ? fc.oneof(hint, own) : own;
}

function fromSchema(input: JsonSchema, o: SchemaArbitraryOptions): fc.Arbitrary<unknown> {
  const s = input.$ref ? { ...o.resolve(input.$ref), ...withoutRef(input) } : input;
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((a) => fromSchema(a, o)));
  if (s.allOf?.length) return fromSchema(Object.assign({}, ...s.allOf) as JsonSchema, o);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => fromSchema({ ...s, type }, o)));
  switch (types[0]) {
    case 'string':
      return stringArbitrary(s, o);
    case 'integer':
      return numberArbitrary(s, true);
    case 'number':
      return fc.oneof(numberArbitrary(s, true), numberArbitrary(s, false));
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(s.items ? fromSchema(s.items, o) : fc.jsonValue(), {
        ...clampLength(s.minItems, s.maxItems, o.maxArrayLength ?? 4),
      });
    case 'object': {
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, sub] of Object.entries(props)) record[key] = arbitraryFor(sub, o, key);
      return fc.record(record, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function withoutRef(s: JsonSchema): JsonSchema {
  const copy = { ...s };
  delete copy.$ref;
  return copy;
}
