// Admin API tokens: 32 random bytes, shown once; the store keeps only their SHA-256.
import { createHash, randomBytes } from 'node:crypto';

/** A recognisable prefix, so a leaked token is easy to find in a config or a paste. */
export const adminTokenPrefix = 'pkadm_';

export function generateAdminToken(): { token: string; tokenHash: string } {
  const token = adminTokenPrefix + randomBytes(32).toString('base64url');
  return { token, tokenHash: hashAdminToken(token) };
}

export function hashAdminToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
