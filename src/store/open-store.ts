// The one place that chooses a store implementation from configuration. Today
// that is the embedded SQLite store; a PostgreSQL one will be chosen here too.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { ManagedStore } from './managed-store.js';
import { sqliteEngine } from './sqlite/sqlite-engine.js';
import { openSqliteStore, type SqliteMailStore } from './sqlite/sqlite-store.js';
import type { StoreEngine } from './store-engine.js';

export interface StoreOptions {
  dataDir: string;
  log: Logger;
  retentionDays?: number;
  groupCommit?: boolean;
  blobMirrors?: readonly string[];
  acknowledgeAfterCopies?: number;
}

/**
 * The embedded store at a data folder. Its type is the engine's class so that tests
 * can reach engine internals for fault injection; code under src/ holds it as a
 * ManagedStore (openConfiguredStore), never by the engine's name.
 */
export async function openStore(options: StoreOptions): Promise<SqliteMailStore> {
  return openSqliteStore(options);
}

/**
 * The engine that reads and writes stores that are not open (a backup's snapshot, a
 * copy to compare, a data folder to restore into).
 */
export function storeEngine(): StoreEngine {
  return sqliteEngine;
}

/**
 * Whether `dataDir` already holds a store. Opening one creates it, so every command
 * but `init` and `start` asks first: a mistyped folder must not become an empty store.
 */
export function storeExists(dataDir: string): boolean {
  return storeEngine().holdsSnapshot(dataDir);
}

/** The store as the config describes it: what the server and every CLI command open. */
export function openConfiguredStore(config: Config, log: Logger): Promise<ManagedStore> {
  return openStore({
    dataDir: config.dataDir,
    log,
    retentionDays: config.store.retentionDays,
    blobMirrors: config.store.blobMirrors,
    acknowledgeAfterCopies: config.store.acknowledgeAfterCopies,
  });
}
