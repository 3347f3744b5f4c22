// API keys for programs: what a key may do (its scopes), the body that creates one, and a key as its
// owner sees it. The key itself (`rw_<lookup>_<secret>`) is shown once, in the answer that creates
// it; afterwards only its prefix `rw_<lookup>` is.
import { z } from 'zod';

import { text } from './text.schemas.ts';

/**
 * What a key may do:
 * - `read`: the public reads (rates, currencies, conversions) sent with the key — rate-limited per key;
 * - `jobs`: submit and read the owner's exchange jobs, and calculate exchanges;
 * - `alerts`: the owner's alerts (the alerts API).
 * A key never has the admin role, and never manages keys, webhook secrets or the account.
 */
export const API_KEY_SCOPES = ['read', 'jobs', 'alerts'] as const;

export const apiKeyScope = z.enum(API_KEY_SCOPES).meta({
  id: 'ApiKeyScope',
  description:
    '`read`: public reads sent with the key; `jobs`: submit and read exchange jobs and calculations; ' +
    '`alerts`: the alerts API',
});

/** Live keys (not revoked, not expired) one account may hold. */
export const MAX_LIVE_API_KEYS = 25;

export const createApiKeyBody = z
  .object({
    name: text()
      .trim()
      .min(1, { message: 'required' })
      .max(100, { message: 'at most 100 characters' })
      .meta({ description: 'What the key is for (shown in the list)' }),
    scopes: z
      .array(apiKeyScope)
      .min(1, { message: 'at least one scope' })
      .max(API_KEY_SCOPES.length)
      .refine((scopes) => new Set(scopes).size === scopes.length, { message: 'each scope once' }),
    expires_at: text()
      .pipe(z.iso.datetime({ offset: true, message: 'expected an ISO 8601 date-time with a zone (…Z or +hh:mm)' }))
      .refine((v) => Date.parse(v) > Date.now(), { message: 'must be in the future' })
      .refine((v) => Date.parse(v) < Date.UTC(10_000, 0, 1), { message: 'must be before the year 10000' })
      .optional()
      .meta({ description: 'When the key stops working (ISO 8601); without it, the key works until revoked' }),
  })
  .meta({ id: 'CreateApiKeyRequest' });

export const apiKeyIdParams = z.object({ id: z.uuid({ message: 'expected an API key id (UUID)' }) });

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().meta({ description: 'The first part of the key, `rw_<lookup>`: enough to tell keys apart' }),
    scopes: z.array(apiKeyScope),
    created_at: z.string(),
    last_used_at: z
      .string()
      .nullable()
      .meta({ description: 'When the key was last accepted (recorded within a few seconds); null if never' }),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable().optional().meta({ description: 'When the key was revoked (listed keys)' }),
  })
  .meta({ id: 'ApiKey' });

export const apiKeyList = z.object({ items: z.array(apiKeySchema) }).meta({ id: 'ApiKeyList' });

export const createdApiKeySchema = apiKeySchema
  .extend({
    key: z.string().meta({
      description:
        'The key, `rw_<lookup>_<secret>`. Shown only in this answer: store it now. Send it as `X-API-Key: <key>` ' +
        'or `Authorization: Bearer <key>`.',
    }),
  })
  .meta({ id: 'CreatedApiKey' });

export type ApiKeyScope = z.infer<typeof apiKeyScope>;
export type CreateApiKeyBody = z.output<typeof createApiKeyBody>;
export type ApiKeyDto = z.infer<typeof apiKeySchema>;
export type CreatedApiKeyDto = z.infer<typeof createdApiKeySchema>;
