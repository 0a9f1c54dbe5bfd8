// TOTP (RFC 6238): HOTP (RFC 4226) over the number of 30-second steps since the
// Unix epoch. SHA-1 and 6 digits are what every authenticator app supports; the
// other algorithms are here only so the RFC's own test vectors can run.
import { createHmac, randomBytes } from 'node:crypto';

export const stepSeconds = 30;
export const codeDigits = 6;
export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 §6 base32, without padding (what otpauth:// URIs carry). */
export function base32Encode(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += base32Alphabet[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const character of clean) {
    const index = base32Alphabet.indexOf(character);
    if (index < 0) throw new Error('not base32');
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 §4 secret length: 160 bits. */
export function newTotpSecret(): string {
  return base32Encode(randomBytes(20));
}

/** RFC 4226 §5.3: HMAC, dynamic truncation, modulo 10^digits. */
export function hotp(key: Buffer, counter: number, digits = codeDigits, algorithm: TotpAlgorithm = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** RFC 6238 §4.2: T = floor((unixTime - T0) / X), T0 = 0, X = 30 s. */
export function timeStep(time: Date | number = Date.now()): number {
  return Math.floor((typeof time === 'number' ? time : time.getTime()) / 1000 / stepSeconds);
}

export function totp(secret: string, time: Date | number = Date.now(), options: { digits?: number; algorithm?: TotpAlgorithm } = {}): string {
  return hotp(base32Decode(secret), timeStep(time), options.digits ?? codeDigits, options.algorithm ?? 'sha1');
}

/** The key-uri format authenticator apps read (otpauth://totp/Issuer:account?secret=…). */
export function otpauthUri(secret: string, login: string, issuer: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(login)}`;
  const query = new URLSearchParams({ secret, issuer, algorithm: 'SHA1', digits: String(codeDigits), period: String(stepSeconds) });
  return `otpauth://totp/${label}?${query.toString().replace(/\+/g, '%20')}`;
}
