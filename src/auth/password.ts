// Password hashing with argon2id (RFC 9106). The parameters are the library's
// defaults, RFC 9106's second recommended option: 64 MiB of memory, 3 passes,
// 4 lanes. A hash records its own parameters, so raising them later only affects
// new hashes; `needsRehash` tells a login to upgrade an old one, and an imported
// hash of another scheme (password-schemes.ts).
import argon2 from 'argon2';
import { credentialCache } from './credential-cache.js';
import { passwordHashLimiter } from './hash-limiter.js';
import { verifyImportedHash } from './password-schemes.js';

export const passwordParameters = { type: argon2.argon2id, memoryCost: 65536, timeCost: 3, parallelism: 4 } as const;

/** A new hash; it holds 64 MiB while it runs, so it waits for a slot like a check (hash-limiter.ts). */
export async function hashPassword(password: string): Promise<string> {
  return passwordHashLimiter.run(() => argon2.hash(password, passwordParameters));
}

/**
 * Checks a password against its stored hash; a recent success is remembered
 * (credential-cache.ts) and costs no slot. Anything else waits for one
 * (hash-limiter.ts), or throws PasswordCheckBusy when too many are waiting.
 */
export function verifyPassword(hash: string, password: string): Promise<boolean> {
  return credentialCache.check(hash, password, (storedHash, given) => passwordHashLimiter.run(() => verifyUncached(storedHash, given)));
}

async function verifyUncached(hash: string, password: string): Promise<boolean> {
  if (hash.startsWith('{')) return verifyImportedHash(hash, password);
  try {
    return await argon2.verify(hash, password);
  } catch {
    // A malformed stored hash never authenticates anybody.
    return false;
  }
}

export function needsRehash(hash: string): boolean {
  if (!hash.startsWith('$argon2id$')) return true;
  try {
    return argon2.needsRehash(hash, passwordParameters);
  } catch {
    return true;
  }
}
