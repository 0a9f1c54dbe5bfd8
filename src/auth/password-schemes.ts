// Password hashes imported from Dovecot passwd-files (`{SCHEME}hash`), kept until
// the account's next successful login rehashes the password with argon2id.
// Stored forms: argon2 hashes as their PHC string (`$argon2id$…`), the others with
// Dovecot's scheme prefix so the verifier knows which one it holds.
import { createHash, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { parseShaCryptSetting, shaCrypt } from './sha-crypt.js';

export const importableSchemes = ['ARGON2ID', 'SHA512-CRYPT', 'BLF-CRYPT', 'SSHA512'] as const;
export type ImportableScheme = (typeof importableSchemes)[number];

/** Highest bcrypt cost accepted: each step doubles the work of one login (cost 16 is seconds). */
const maximumBcryptCost = 16;
/** Highest SHA-crypt rounds accepted on import, for the same reason. */
const maximumShaCryptRounds = 1_000_000;

export type ImportedHash = { ok: true; scheme: ImportableScheme; stored: string } | { ok: false; reason: string };

/** Turns a passwd-file password field into the form the accounts table keeps. */
export function importHash(field: string): ImportedHash {
  const match = /^\{([A-Za-z0-9.-]+)\}(.*)$/s.exec(field);
  if (!match) return { ok: false, reason: 'no {SCHEME} prefix' };
  const scheme = match[1]!.toUpperCase();
  const hash = match[2]!;
  switch (scheme) {
    case 'ARGON2ID':
      if (!/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.test(hash)) return { ok: false, reason: 'malformed ARGON2ID hash' };
      return { ok: true, scheme, stored: hash };
    case 'SHA512-CRYPT': {
      const setting = parseShaCryptSetting(hash);
      if (!setting || !/\$[./0-9A-Za-z]{86}$/.test(hash)) return { ok: false, reason: 'malformed SHA512-CRYPT hash' };
      if (setting.rounds > maximumShaCryptRounds) return { ok: false, reason: `SHA512-CRYPT rounds above ${maximumShaCryptRounds}` };
      return { ok: true, scheme, stored: `{SHA512-CRYPT}${hash}` };
    }
    case 'BLF-CRYPT': {
      const bcryptMatch = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(hash);
      if (!bcryptMatch) return { ok: false, reason: 'malformed BLF-CRYPT hash' };
      if (Number(bcryptMatch[1]) > maximumBcryptCost) return { ok: false, reason: `BLF-CRYPT cost above ${maximumBcryptCost}` };
      return { ok: true, scheme, stored: `{BLF-CRYPT}${hash}` };
    }
    case 'SSHA512': {
      const decoded = decodeSsha512(hash);
      if (!decoded) return { ok: false, reason: 'malformed SSHA512 hash' };
      return { ok: true, scheme, stored: `{SSHA512}${hash}` };
    }
    default:
      return { ok: false, reason: `unknown scheme ${scheme.slice(0, 40)}` };
  }
}

function decodeSsha512(hash: string): { digest: Buffer; salt: Buffer } | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(hash)) return null;
  const bytes = Buffer.from(hash, 'base64');
  // SHA-512's 64 bytes, then a salt of at least one byte.
  if (bytes.length <= 64) return null;
  return { digest: bytes.subarray(0, 64), salt: bytes.subarray(64) };
}

/** Verifies a password against an imported (non-argon2) stored hash; false for anything unknown. */
export async function verifyImportedHash(stored: string, password: string): Promise<boolean> {
  if (stored.startsWith('{SHA512-CRYPT}')) {
    const hash = stored.slice('{SHA512-CRYPT}'.length);
    const setting = parseShaCryptSetting(hash);
    if (!setting) return false;
    return sameText(await shaCrypt(password, setting), hash);
  }
  if (stored.startsWith('{BLF-CRYPT}')) {
    try {
      return await bcrypt.compare(password, stored.slice('{BLF-CRYPT}'.length));
    } catch {
      return false;
    }
  }
  if (stored.startsWith('{SSHA512}')) {
    const decoded = decodeSsha512(stored.slice('{SSHA512}'.length));
    if (!decoded) return false;
    const digest = createHash('sha512').update(Buffer.from(password, 'utf8')).update(decoded.salt).digest();
    return timingSafeEqual(digest, decoded.digest);
  }
  return false;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
