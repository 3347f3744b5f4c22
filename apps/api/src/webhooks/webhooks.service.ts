// Each user's webhook secret: created on first read, replaced on rotation (the replaced one keeps
// signing for 24 h, so a receiver can switch without missing a callback). The secret is returned
// to its owner only and never logged.
import type { WebhookSecretDto } from '@ratewire/contracts';
import { readWebhookSecret, rotateWebhookSecret, type Database, type WebhookSecretRow } from '@ratewire/db';

import { AppError } from '../http/app-error.ts';

export class WebhooksService {
  private readonly db: Database;

  constructor(deps: { db: Database }) {
    this.db = deps.db;
  }

  /** The caller's secret, created when the caller has none yet. */
  async secret(userId: string): Promise<WebhookSecretDto> {
    return view(await readWebhookSecret(this.db, userId));
  }

  /** A new secret for the caller; the current one becomes the previous one. */
  async rotate(userId: string): Promise<WebhookSecretDto> {
    return view(await rotateWebhookSecret(this.db, userId));
  }
}

function view(row: WebhookSecretRow | undefined): WebhookSecretDto {
  if (!row) throw new AppError(401, 'unknown_user', 'the account behind this token no longer exists');
  return {
    secret: row.secret,
    created_at: row.created_at.toISOString(),
    previous_expires_at: row.previous_expires_at?.toISOString() ?? null,
  };
}
