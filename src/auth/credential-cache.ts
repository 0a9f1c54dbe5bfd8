// A short-lived memory of successful password checks, like Dovecot's auth_cache.
// An argon2id check costs 64 MiB and tens of milliseconds of CPU on purpose (RFC 9106,
// against offline guessing); a client that reconnects all day (mbsync every minute,
// phones, several connections per client) would pay that at every LOGIN and starve
// the threads that also serve file reads and fsyncs.
//
// What is kept: for a few minutes, an HMAC-SHA256 under a random per-process key of
// (stored hash, password). Never the password itself. The stored hash is part of the
// key, so a password change (a new stored hash, also when another process such as
// `postkeep user passwd` wrote it) misses at once. Only successes are kept: a wrong
// password always pays the full argon2 cost. Concurrent checks of the same pair share
// one argon2 run. The parameters of the stored hash are never weakened.
import { createHmac, randomBytes } from 'node:crypto';

export interface CredentialCacheOptions {
  /** How long a successful check is remembered. */
  ttlMilliseconds?: number;
  /** Most entries kept; the oldest are dropped first. */
  maxEntries?: number;
}

export class CredentialCache {
  private readonly key = randomBytes(32);
  private readonly successes = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private readonly ttl: number;
  private readonly maxEntries: number;

  constructor(options: CredentialCacheOptions = {}) {
    this.ttl = options.ttlMilliseconds ?? 5 * 60_000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** `verify(storedHash, password)` unless the same pair succeeded within the TTL. */
  async check(storedHash: string, password: string, verify: (storedHash: string, password: string) => Promise<boolean>): Promise<boolean> {
    const key = createHmac('sha256', this.key).update(storedHash).update('\0').update(password).digest('base64');
    const expires = this.successes.get(key);
    if (expires !== undefined) {
      if (expires > Date.now()) return true;
      this.successes.delete(key);
    }
    const running = this.inFlight.get(key);
    if (running) return running;
    const result = verify(storedHash, password).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, result);
    if (await result) this.remember(key);
    return result;
  }

  /** Forgets everything (tests; an admin action that must take effect at once). */
  clear(): void {
    this.successes.clear();
  }

  private remember(key: string): void {
    this.successes.delete(key);
    this.successes.set(key, Date.now() + this.ttl);
    // A Map iterates in insertion order: the first keys are the oldest.
    while (this.successes.size > this.maxEntries) this.successes.delete(this.successes.keys().next().value!);
  }
}

/** The process's cache, used by verifyPassword. */
export const credentialCache = new CredentialCache();
