// Brute-force pacing, in memory per server process (a restart forgets it, which
// costs an attacker nothing they could not get by waiting; several processes would
// each pace on their own). Three tables, each bounded:
//  - (account, source address): the answer to each failure waits 0, 1, 2, 4 … steps,
//    capped; after `lockThreshold` failures the pair is locked for `lockMinutes`.
//  - source address: the same growing delay over all the accounts it tries.
//  - account: failures from addresses the account never logged in from; past
//    `accountLockThreshold` such addresses are locked out of it, but an address in
//    known_login_sources is not, so an attacker hammering the account from many
//    places does not lock its owner out.
// A locked attempt is answered with the same failure as any other. Waiting is a
// timer, never a busy loop, so a paced connection costs the event loop nothing.
import { setTimeout as sleep } from 'node:timers/promises';
import { isIPv6 } from 'node:net';
import type { Config } from '../config/schema.js';
import type { MailStore } from '../store/types.js';

export type PacingSettings = Config['auth'];

export const defaultPacingSettings: PacingSettings = {
  pacing: true,
  delayStepSeconds: 1,
  maxDelaySeconds: 30,
  lockThreshold: 10,
  accountLockThreshold: 50,
  lockMinutes: 15,
  failureWindowMinutes: 60,
  maxTrackedEntries: 100_000,
  // Not pacing, but in the same [auth] table: the hash limiter's (hash-limiter.ts).
  maxConcurrentHashes: 2,
  hashQueueLimit: 100,
};

interface Entry {
  failures: number;
  lastFailure: number;
  /** An attempt arriving earlier waits until then (parallel connections queue up). */
  notBefore: number;
  lockedUntil: number;
}

/** A map of entries bounded in size: the least recently failed one goes first when full. */
class BoundedTable {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly limit: number,
    private readonly windowMilliseconds: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The live entry, or undefined once its failures are older than the window and no lock holds. */
  get(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && now - entry.lastFailure > this.windowMilliseconds && entry.lockedUntil <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** The entry to record a failure in, moved to the young end. */
  touch(key: string, now: number): Entry {
    const entry = this.get(key, now) ?? { failures: 0, lastFailure: now, notBefore: 0, lockedUntil: 0 };
    this.entries.delete(key);
    while (this.entries.size >= this.limit) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(key, entry);
    return entry;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

export type Admission = { locked: false } | { locked: true; until: number };

export interface FailureOutcome {
  /** How long to hold the failure answer back. */
  delayMilliseconds: number;
  /** Set when this failure started a lock (for `auth.locked`). */
  lockedUntil: number | null;
}

/**
 * The pacing source key: IPv4 (and IPv4-mapped IPv6) as is, IPv6 by its /64, since
 * one host usually holds a whole /64 and could otherwise change address each try.
 */
export function sourceKey(address: string): string {
  const plain = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  if (!isIPv6(plain)) return plain;
  const [head = '', tail = ''] = plain.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = plain.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = plain.includes('::') ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups] : headGroups;
  return `${groups.slice(0, 4).map((group) => group.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export class LoginPacing {
  private readonly pairs: BoundedTable;
  private readonly sources: BoundedTable;
  private readonly accounts: BoundedTable;

  constructor(
    readonly settings: PacingSettings = defaultPacingSettings,
    private readonly clock: () => number = Date.now,
  ) {
    const window = settings.failureWindowMinutes * 60_000;
    this.pairs = new BoundedTable(settings.maxTrackedEntries, window);
    this.sources = new BoundedTable(settings.maxTrackedEntries, window);
    this.accounts = new BoundedTable(settings.maxTrackedEntries, window);
  }

  /** Entries held, for tests that check the tables stay bounded. */
  get trackedEntries(): number {
    return this.pairs.size + this.sources.size + this.accounts.size;
  }

  private delayFor(failures: number): number {
    if (failures <= 1) return 0;
    return Math.min(this.settings.maxDelaySeconds, this.settings.delayStepSeconds * 2 ** (failures - 2)) * 1000;
  }

  /** Waits while an earlier failure from the same place is still being paced; says whether a lock holds. */
  async admit(login: string, address: string, known: boolean): Promise<Admission> {
    if (!this.settings.pacing) return { locked: false };
    const now = this.clock();
    const pair = this.pairs.get(`${login}\n${sourceKey(address)}`, now);
    const source = this.sources.get(sourceKey(address), now);
    const wait = Math.min(Math.max(pair?.notBefore ?? 0, source?.notBefore ?? 0) - now, this.settings.maxDelaySeconds * 1000);
    if (wait > 0) await sleep(wait, undefined, { ref: false });
    const after = this.clock();
    if (pair && pair.lockedUntil > after) return { locked: true, until: pair.lockedUntil };
    if (!known) {
      const account = this.accounts.get(login, after);
      if (account && account.lockedUntil > after) return { locked: true, until: account.lockedUntil };
    }
    return { locked: false };
  }

  /** Counts a failure; a locked attempt only counts against its source address. */
  recordFailure(login: string, address: string, options: { known: boolean; locked?: boolean }): FailureOutcome {
    if (!this.settings.pacing) return { delayMilliseconds: 0, lockedUntil: null };
    const now = this.clock();
    const key = sourceKey(address);
    const source = this.count(this.sources.touch(key, now), now);
    if (options.locked) {
      const delay = Math.max(this.delayFor(source.failures), this.delayFor(this.settings.lockThreshold));
      source.notBefore = now + delay;
      return { delayMilliseconds: delay, lockedUntil: null };
    }
    const pair = this.count(this.pairs.touch(`${login}\n${key}`, now), now);
    const lockMilliseconds = this.settings.lockMinutes * 60_000;
    let lockedUntil: number | null = null;
    if (pair.failures >= this.settings.lockThreshold && pair.lockedUntil <= now) {
      pair.lockedUntil = now + lockMilliseconds;
      lockedUntil = pair.lockedUntil;
    }
    if (!options.known) {
      const account = this.count(this.accounts.touch(login, now), now);
      if (account.failures >= this.settings.accountLockThreshold && account.lockedUntil <= now) {
        account.lockedUntil = now + lockMilliseconds;
        lockedUntil = Math.max(lockedUntil ?? 0, account.lockedUntil);
      }
    }
    const delay = Math.max(this.delayFor(pair.failures), this.delayFor(source.failures));
    pair.notBefore = now + delay;
    source.notBefore = now + delay;
    return { delayMilliseconds: delay, lockedUntil };
  }

  /** A success clears its pair; the source's and the account's counts run on until they age out. */
  recordSuccess(login: string, address: string): void {
    this.pairs.delete(`${login}\n${sourceKey(address)}`);
  }

  private count(entry: Entry, now: number): Entry {
    // A lock that has run out starts the count afresh.
    if (entry.lockedUntil !== 0 && entry.lockedUntil <= now) {
      entry.failures = 0;
      entry.lockedUntil = 0;
    }
    entry.failures++;
    entry.lastFailure = now;
    return entry;
  }
}

const pacingByStore = new WeakMap<MailStore, LoginPacing>();

/** Sets the pacing for logins against `store` (the server does this from `[auth]`). */
export function configureLoginPacing(store: MailStore, settings: PacingSettings): LoginPacing {
  const pacing = new LoginPacing(settings);
  pacingByStore.set(store, pacing);
  return pacing;
}

/** The pacing for `store`: the configured one, else one with the default settings. */
export function loginPacingFor(store: MailStore): LoginPacing {
  let pacing = pacingByStore.get(store);
  if (!pacing) pacingByStore.set(store, (pacing = new LoginPacing()));
  return pacing;
}
