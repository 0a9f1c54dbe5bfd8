// What every CLI command shares: the config, a store opened for the length of the
// command, and errors turned into one line that names the problem and an exit code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../config/load-config.js';
import type { Config } from '../config/schema.js';
import { PostkeepError, StoreMissing } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { lockDataFolder, type DataFolderLock } from '../server/data-folder-lock.js';
import { privateDirectoryMode, secureDataFolder } from '../server/file-permissions.js';
import { openConfiguredStore, storeExists } from '../store/open-store.js';
import { SecurityLog } from '../security-log/security-log.js';
import { teeSecurityEvents } from '../security-log/security-log-tee.js';
import type { ManagedStore } from '../store/managed-store.js';

export interface GlobalOptions {
  config?: string;
}

export interface CommandSession {
  config: Config;
  log: Logger;
  store: ManagedStore;
}

export function commandConfig(options: GlobalOptions): { config: Config; log: Logger } {
  const { config } = loadConfig(options.config);
  // Commands print their results on stdout; only warnings and worse reach stderr.
  return { config, log: createLogger({ level: 'warn' }) };
}

export interface StoreAccess {
  /** Make the store if the folder holds none: only `init` and `start` do. */
  create?: boolean;
  /** Take the data folder's exclusive lock, naming what holds it (e.g. "audit --repair"). */
  exclusive?: string;
}

/**
 * Readies a data folder for a command: refuses one that holds no store (unless
 * `create`), makes it private to this user (fixing and logging wider modes), and
 * takes the exclusive lock if asked. Returns the lock, or null.
 */
export function prepareDataFolder(dataDir: string, log: Logger, access: StoreAccess & { blobMirrors?: readonly string[] } = {}): DataFolderLock | null {
  if (!storeExists(dataDir)) {
    if (!access.create) throw new StoreMissing(path.resolve(dataDir));
    fs.mkdirSync(dataDir, { recursive: true, mode: privateDirectoryMode });
  }
  secureDataFolder(dataDir, log, access.blobMirrors ?? []);
  return access.exclusive === undefined ? null : lockDataFolder(dataDir, access.exclusive, log);
}

/**
 * Opens the store, runs `work`, always closes the store. Security events the
 * command logs (account.*, admin.*, …) are appended to the security log first.
 */
export async function withStore<T>(options: GlobalOptions, work: (session: CommandSession) => Promise<T>, access: StoreAccess = {}): Promise<T> {
  const { config, log: baseLog } = commandConfig(options);
  const lock = prepareDataFolder(config.dataDir, baseLog, { ...access, blobMirrors: config.store.blobMirrors });
  try {
    const securityLog = new SecurityLog({ dataDir: config.dataDir, log: baseLog });
    const log = teeSecurityEvents(baseLog, securityLog);
    const store = await openConfiguredStore(config, log);
    securityLog.attach(store);
    try {
      return await work({ config, log, store });
    } finally {
      await securityLog.close();
      await store.close();
    }
  } finally {
    lock?.release();
  }
}

/** Wraps a command's action: a known error becomes `postkeep: <message>` and exit code 1. */
export function action<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (error) {
      if (error instanceof PostkeepError) {
        process.stderr.write(`postkeep: ${error.message}\n`);
        process.exitCode = 1;
        return;
      }
      throw error;
    }
  };
}
