// Argon2id password hashes (OWASP parameters: 19 MiB, 2 passes, 1 lane), computed off the event loop.
import { randomBytes } from 'node:crypto';

import { hash, verify, type Options } from '@node-rs/argon2';

const ARGON2ID = 2 as NonNullable<Options['algorithm']>; // Algorithm.Argon2id (a const enum, not importable)
const OPTIONS: Options = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false; // a malformed stored hash never matches
  }
}

let dummy: Promise<string> | undefined;
/**
 * A hash of a random secret with the same parameters: verified against when the email is unknown,
 * so "no such user" costs the same time as "wrong password".
 */
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(24).toString('base64url'));
  return dummy;
}
