// OpenAPI 3.1 generated from the same zod schemas the routes validate with (see route.ts).
import { toJsonSchema, type JsonSchema } from '@ratewire/contracts/json-schema';
import type { z } from 'zod';

import { keyAccessOf, type RouteSpec } from './route.ts';

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query', components: Record<string, JsonSchema>) {
  if (!schema) return [];
  const json = toJsonSchema(schema, 'input', components);
  const props = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
    schema: s,
  }));
}

/**
 * What an operation accepts: an access token (`bearerAuth`) where it needs an account, and an API
 * key (`apiKey`, with the scope it needs as its role) where keys may use it; a public operation
 * that takes keys lists the empty requirement first (no credential needed).
 */
function securityOf(route: RouteSpec): { security?: Record<string, string[]>[]; keyNote?: string } {
  const access = route.auth ?? 'public';
  const keyAccess = access === 'admin' ? false : keyAccessOf(route);
  const key = keyAccess === false ? [] : [{ apiKey: keyAccess === 'any' ? [] : [keyAccess] }];
  const keyNote =
    keyAccess === false
      ? undefined
      : keyAccess === 'any'
        ? 'API keys: any key.'
        : `API keys: with the \`${keyAccess}\` scope.`;
  if (access === 'public') return key.length ? { security: [{}, ...key], keyNote } : {};
  return { security: [{ bearerAuth: [] }, ...key], keyNote };
}

export interface DocumentInfo {
  title: string;
  version: string;
  description: string;
}

const TABULAR_CONTENT = {
  'text/csv': {
    schema: { type: 'string', description: 'RFC 4180 CSV with a header row; sent as an attachment' },
  },
  'application/x-ndjson': {
    schema: { type: 'string', description: 'One JSON object per line, the fields of a JSON row' },
  },
};

export function buildOpenApiDocument(routes: readonly RouteSpec[], info: DocumentInfo) {
  const components: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  for (const route of routes) {
    if (route.hidden) continue;
    route.tags.forEach((t) => tags.add(t));
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(route.responses)) {
      // a tabular read's rows also come as CSV (header row) and NDJSON (one object a line)
      const tabular = route.table && status === '200' ? TABULAR_CONTENT : {};
      responses[status] = {
        description: res.description,
        ...(res.schema
          ? {
              content: {
                [res.contentType ?? 'application/json']: { schema: toJsonSchema(res.schema, 'output', components) },
                ...tabular,
              },
            }
          : {}),
      };
    }
    const body = route.body
      ? {
          required: true,
          content: Object.fromEntries(
            (route.bodyContentTypes ?? ['application/json']).map((ct) => [
              ct,
              { schema: toJsonSchema(route.body!, 'input', components) },
            ]),
          ),
        }
      : undefined;
    const { security, keyNote } = securityOf(route);
    const description = [route.description, keyNote].filter(Boolean).join('\n\n');
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(description ? { description } : {}),
      tags: route.tags,
      ...(security ? { security } : {}),
      parameters: [...parameters(route.params, 'path', components), ...parameters(route.query, 'query', components)],
      ...(body ? { requestBody: body } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    tags: [...tags].sort().map((name) => ({
      name,
      ...(name === 'compat'
        ? {
            description:
              'Aliases for clients of the Currency-API service, the async exchange service and the Binance rates service, over the same handlers',
          }
        : {}),
    })),
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The access token of a session (`POST /api/v1/auth/login`).',
        },
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description:
            'An API key (`rw_…`, `POST /api/v1/api-keys`), also accepted as `Authorization: Bearer <key>`. It acts ' +
            'as its owner with the role `user`, where its scopes allow, and is rate-limited (RateLimit-* headers on ' +
            'every answer; 429 with Retry-After past the limit).',
        },
      },
    },
  };
}
