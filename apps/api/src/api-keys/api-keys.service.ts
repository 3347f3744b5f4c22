// A user's API keys: create (the key is answered once and never again; only its hash is kept),
// list and revoke. An account holds at most MAX_LIVE_API_KEYS live keys. Revoking is seen by every
// replica within milliseconds: the row's change is NOTIFYed and each replica's key cache drops it.
import { MAX_LIVE_API_KEYS, type ApiKeyDto, type CreateApiKeyBody, type CreatedApiKeyDto } from '@ratewire/contracts';
import {
  apiKeyPrefix,
  generateApiKey,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
  type ApiKeyRow,
  type Database,
} from '@ratewire/db';

import { AppError, notFound } from '../http/app-error.ts';
import type { ApiKeyCache } from './api-keys.cache.ts';

export function toApiKeyDto(row: ApiKeyRow): ApiKeyDto {
  return {
    id: row.id,
    name: row.name,
    prefix: apiKeyPrefix(row.lookup),
    scopes: row.scopes as ApiKeyDto['scopes'],
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at?.toISOString() ?? null,
    expires_at: row.expires_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
  };
}

export interface ApiKeysServiceDeps {
  db: Database;
  /** This process's key cache: a key revoked here is refused here at once, not when the NOTIFY returns. */
  cache?: Pick<ApiKeyCache, 'forget'>;
  /** Live keys per account (default MAX_LIVE_API_KEYS). */
  maxLive?: number;
}

export class ApiKeysService {
  private readonly db: Database;
  private readonly maxLive: number;
  private readonly cache: Pick<ApiKeyCache, 'forget'> | undefined;

  constructor(deps: ApiKeysServiceDeps) {
    this.db = deps.db;
    this.cache = deps.cache;
    this.maxLive = deps.maxLive ?? MAX_LIVE_API_KEYS;
  }

  async create(userId: string, body: CreateApiKeyBody): Promise<CreatedApiKeyDto> {
    const secret = generateApiKey();
    const row = await insertApiKey(
      this.db,
      {
        ...secret,
        userId,
        name: body.name,
        scopes: body.scopes,
        expiresAt: body.expires_at === undefined ? null : new Date(body.expires_at),
      },
      this.maxLive,
    );
    if (row === 'no_account') throw new AppError(401, 'unknown_user', 'the account behind this token no longer exists');
    if (row === 'limit_reached') {
      throw new AppError(
        409,
        'api_key_limit',
        `an account may hold at most ${this.maxLive} live API keys; revoke one (DELETE /api/v1/api-keys/{id}) first`,
      );
    }
    const dto: CreatedApiKeyDto = { ...toApiKeyDto(row), key: secret.key };
    delete dto.revoked_at; // a new key is not revoked: the field is for listed keys
    return dto;
  }

  async list(userId: string): Promise<ApiKeyDto[]> {
    return (await listApiKeys(this.db, userId)).map(toApiKeyDto);
  }

  async revoke(userId: string, id: string): Promise<void> {
    const lookup = await revokeApiKey(this.db, id, userId);
    if (lookup === null) throw notFound('API key');
    this.cache?.forget(lookup);
  }
}
