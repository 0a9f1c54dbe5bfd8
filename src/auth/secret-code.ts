// Generated secrets people type: app passwords and recovery codes. 16 characters
// from a 32-letter alphabet without look-alikes (no 0/o, 1/l), shown as four groups
// of four: 16 × 5 = 80 bits of entropy. With that much entropy a guess is as hopeless
// against a fast hash as against a slow one, so only a SHA-256 is stored: checking
// one costs microseconds, so every app password of an account can be tried at each
// login without making logins slow (argon2 would cost ~0.1 s per stored entry).
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
const length = 16;

export function generateSecretCode(): string {
  let code = '';
  for (let i = 0; i < length; i++) code += alphabet[randomInt(alphabet.length)];
  return code.match(/.{4}/g)!.join('-');
}

/** What was typed, without the separators and case people add or drop. */
export function normalizeSecretCode(typed: string): string {
  return typed.replace(/[\s-]/g, '').toLowerCase();
}

/** SHA-256 (hex) of the normalized code. */
export function hashSecretCode(typed: string): string {
  return createHash('sha256').update(normalizeSecretCode(typed), 'utf8').digest('hex');
}

export function looksLikeSecretCode(typed: string): boolean {
  const normalized = normalizeSecretCode(typed);
  return normalized.length === length && [...normalized].every((character) => alphabet.includes(character));
}

export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
