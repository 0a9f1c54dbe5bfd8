// SHA-512 crypt ($6$), as specified by Ulrich Drepper ("Unix crypt using SHA-256
// and SHA-512", 2007/2008), the scheme glibc and Dovecot's {SHA512-CRYPT} use. Only
// for verifying imported hashes: Postkeep's own hashes are argon2id. The numbered
// steps below are the specification's.
import { createHash } from 'node:crypto';

const alphabet = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const defaultRounds = 5000;
const minimumRounds = 1000;
const maximumRounds = 999_999_999;
/** Rounds between two yields to the event loop: one login never stalls the others for long. */
const roundsPerSlice = 2000;

export interface ShaCryptSetting {
  salt: string;
  rounds: number;
  /** Whether `rounds=` was written in the setting (it is then written in the result too). */
  explicitRounds: boolean;
}

/** Parses `$6$[rounds=N$]salt[$hash]`; null when it is not one. */
export function parseShaCryptSetting(text: string): ShaCryptSetting | null {
  const match = /^\$6\$(?:rounds=(\d{1,10})\$)?([^$\n:]{0,16})[^$\n:]*(?:\$[./0-9A-Za-z]{86})?$/.exec(text);
  if (!match) return null;
  const explicitRounds = match[1] !== undefined;
  // Spec: a value outside the range is clamped, not refused.
  const rounds = explicitRounds ? Math.min(maximumRounds, Math.max(minimumRounds, Number(match[1]))) : defaultRounds;
  return { salt: match[2]!, rounds, explicitRounds };
}

function sha512(...parts: Buffer[]): Buffer {
  const hash = createHash('sha512');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** `length` bytes of `block` repeated (steps 16 and 20). */
function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let offset = 0; offset < length; offset += block.length) block.copy(out, offset, 0, Math.min(block.length, length - offset));
  return out;
}

// Step 22: the 64 bytes are written in this order, three at a time, 4 characters each.
const byteOrder = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10],
  [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
] as const;

function encode(digest: Buffer): string {
  let out = '';
  const put = (value: number, characters: number) => {
    for (let i = 0; i < characters; i++) {
      out += alphabet[value & 0x3f];
      value >>= 6;
    }
  };
  for (const [high, middle, low] of byteOrder) put((digest[high]! << 16) | (digest[middle]! << 8) | digest[low]!, 4);
  put(digest[63]!, 2);
  return out;
}

/** The full `$6$…` string for `password` under `setting`. */
export async function shaCrypt(password: string, setting: ShaCryptSetting): Promise<string> {
  const key = Buffer.from(password, 'utf8');
  const salt = Buffer.from(setting.salt, 'utf8');
  // Steps 4-8: digest B = SHA512(key salt key).
  const b = sha512(key, salt, key);
  // Steps 1-3, 9-12: digest A.
  const a = createHash('sha512').update(key).update(salt);
  let remaining = key.length;
  for (; remaining > 64; remaining -= 64) a.update(b);
  a.update(b.subarray(0, remaining));
  for (let bits = key.length; bits > 0; bits >>= 1) a.update(bits & 1 ? b : key);
  const digestA = a.digest();
  // Steps 13-16: the P sequence from digest DP = SHA512(key repeated key-length times).
  const dp = createHash('sha512');
  for (let i = 0; i < key.length; i++) dp.update(key);
  const p = repeatTo(dp.digest(), key.length);
  // Steps 17-20: the S sequence from digest DS = SHA512(salt repeated 16 + A[0] times).
  const ds = createHash('sha512');
  for (let i = 0; i < 16 + digestA[0]!; i++) ds.update(salt);
  const s = repeatTo(ds.digest(), salt.length);
  // Step 21: the rounds.
  let c = digestA;
  for (let round = 0; round < setting.rounds; round++) {
    if (round > 0 && round % roundsPerSlice === 0) await new Promise((resolve) => setImmediate(resolve));
    const hash = createHash('sha512');
    hash.update(round & 1 ? p : c);
    if (round % 3 !== 0) hash.update(s);
    if (round % 7 !== 0) hash.update(p);
    hash.update(round & 1 ? c : p);
    c = hash.digest();
  }
  return `$6$${setting.explicitRounds ? `rounds=${setting.rounds}$` : ''}${setting.salt}$${encode(c)}`;
}
