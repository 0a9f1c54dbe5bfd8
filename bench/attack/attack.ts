// What one hostile-client attack is, and what it gets to work with.
import type { ServerProcess } from './server-process.js';
import type { SocketRegistry, SourceAddresses } from './wire.js';

/** The effective configuration of the server under attack (its own schema's output). */
export type EffectiveConfig = Record<string, any>;

export interface Account {
  login: string;
  password: string;
}

export interface AttackContext {
  server: ServerProcess;
  config: EffectiveConfig;
  dataDir: string;
  /** Each attacker gets source addresses no other attack used (127.1.x.y). */
  sources: SourceAddresses;
  /** Every socket the attack opens; destroyed when it ends, however it ends. */
  registry: SocketRegistry;
  /** A logged-in user turned attacker (quota 10 MB). */
  attacker: Account;
  /** Another attacker, without a quota: only the spool limits stop its APPENDs. */
  hoarder: Account;
  /** The legitimate client's account (its password is never sent by an attacker). */
  victim: Account;
  /** Set when the suite's time for this attack is up: loops should stop. */
  signal: AbortSignal;
}

export interface AttackOutcome {
  pass: boolean;
  /** What the server answered, briefly (the table's "observed" column). */
  observed: string;
  /** Bytes the server's peak RSS may grow above its RSS before the attack (default 256 MiB). */
  peakGrowthBound?: number;
}

export interface Attack {
  name: string;
  /** The protocol reply (or behaviour) the attack expects. */
  expected: string;
  /** Longest the attack may take before it is stopped and failed. */
  timeoutSeconds: number;
  /**
   * Whether the legitimate client must be served while it runs. Not for attacks that
   * take every connection slot (refusing everyone then is the limit working): the
   * client is checked once afterwards instead.
   */
  legitimateDuring: boolean;
  /** The attack that stops the server (its row reports the stop). */
  stopsServer?: boolean;
  run(context: AttackContext): Promise<AttackOutcome>;
}

/** `value` from the effective config, or undefined when the server has no such key. */
export function setting(config: EffectiveConfig, key: string): number | undefined {
  let value: unknown = config;
  for (const part of key.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  return typeof value === 'number' ? value : undefined;
}

export const mebibyte = 1024 * 1024;
