// The keys callbacks are signed with, read when they are sent (not when they were queued), so a
// secret rotated between two attempts signs the next one. One query per batch of user targets; a
// user who never read a secret gets one now (the api will show that same secret).
import { webhookSecretsFor, type Database } from '@ratewire/db';

import type { CallbackKeys } from './callback.signer.ts';

/** Where a callback goes: the operator's EXCHANGE_CALLBACK_URL, or an address a user supplied. */
export type CallbackTarget = { kind: 'operator' } | { kind: 'user'; userId: string };

/** The keys for each target, in order; undefined for a user who no longer exists. */
export async function loadCallbackKeys(
  db: Database,
  operatorToken: string | null,
  targets: readonly CallbackTarget[],
): Promise<(CallbackKeys | undefined)[]> {
  const userIds = targets.flatMap((t) => (t.kind === 'user' ? [t.userId] : []));
  const secrets = await webhookSecretsFor(db, userIds);
  return targets.map((t): CallbackKeys | undefined => {
    if (t.kind === 'operator') return { target: 'operator', token: operatorToken };
    const row = secrets.get(t.userId);
    return row && { target: 'user', current: row.secret, previous: row.previous_secret };
  });
}
