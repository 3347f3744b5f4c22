// JSON Schema from the zod contracts, for the documents generated from them (OpenAPI at /openapi.json,
// AsyncAPI at /asyncapi.json): each schema inline, the shared ones (those with a meta id) moved to
// one components table and referenced from there. Pure: no I/O.
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/** Where the shared schemas live in both documents. */
export const COMPONENT_SCHEMAS_REF = '#/components/schemas/';

const DEFS_REF = /"#\/\$defs\/([^"]+)"/g;

/**
 * `schema` as JSON Schema (draft 2020-12) as it is read (`input`: what a sender may write) or written
 * (`output`: what a reader gets), with its `$defs` moved into `components` (named by their meta id;
 * a different shape under a taken name gets an `Input` or `Output` suffix) and every `$ref` rewritten
 * to point there. Parts JSON Schema cannot say (a transform, a refinement) are left open.
 */
export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output', components: Record<string, JsonSchema>) {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
  delete json.$defs;
  delete json.$schema;
  const renames = new Map<string, string>();
  for (const [id, def] of Object.entries(defs)) {
    let name = id;
    const existing = components[name];
    if (existing && JSON.stringify(existing) !== JSON.stringify(def)) {
      name = `${id}${io === 'input' ? 'Input' : 'Output'}`;
    }
    components[name] = def;
    renames.set(id, name);
  }
  // $refs point at $defs of this one schema; in the document they live under components.schemas
  const rewrite = (value: JsonSchema) =>
    JSON.parse(
      JSON.stringify(value).replace(DEFS_REF, (_, id: string) =>
        JSON.stringify(`${COMPONENT_SCHEMAS_REF}${renames.get(id) ?? id}`),
      ),
    ) as JsonSchema;
  for (const name of renames.values()) components[name] = rewrite(components[name]!);
  return rewrite(json);
}
