// Trims what the accounts leave behind: mail sent, failed or discarded, link tokens past their
// expiry, sessions past theirs. Each is kept a week first, so a late click is told its link
// expired rather than that it was never valid, and a mail's outcome can still be looked up.
import { pruneLinkTokens, pruneMailOutbox, pruneSessions, type Database } from '@ratewire/db';

/** How long finished mail, and expired tokens and sessions, are kept. */
export const ACCOUNTS_RETENTION_SECONDS = 7 * 86_400;

export interface AccountsPruned {
  mail: number;
  linkTokens: number;
  sessions: number;
}

export async function runAccountsRetention(db: Database): Promise<AccountsPruned> {
  const [mail, linkTokens, sessions] = await Promise.all([
    pruneMailOutbox(db, ACCOUNTS_RETENTION_SECONDS),
    pruneLinkTokens(db, ACCOUNTS_RETENTION_SECONDS),
    pruneSessions(db, ACCOUNTS_RETENTION_SECONDS),
  ]);
  return { mail, linkTokens, sessions };
}
