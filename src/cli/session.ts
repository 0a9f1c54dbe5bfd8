// What every CLI command shares: the config, a store opened for the length of the
// command, and errors turned into one line that names the problem and an exit code.
import { loadConfig } from '../config/load-config.js';
import type { Config } from '../config/schema.js';
import { PostkeepError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { openConfiguredStore } from '../store/open-store.js';
import type { SqliteMailStore } from '../store/sqlite/sqlite-store.js';

export interface GlobalOptions {
  config?: string;
}

export interface CommandSession {
  config: Config;
  log: Logger;
  store: SqliteMailStore;
}

export function commandConfig(options: GlobalOptions): { config: Config; log: Logger } {
  const { config } = loadConfig(options.config);
  // Commands print their results on stdout; only warnings and worse reach stderr.
  return { config, log: createLogger({ level: 'warn' }) };
}

/** Opens the store, runs `work`, always closes the store. */
export async function withStore<T>(options: GlobalOptions, work: (session: CommandSession) => Promise<T>): Promise<T> {
  const { config, log } = commandConfig(options);
  const store = await openConfiguredStore(config, log);
  try {
    return await work({ config, log, store });
  } finally {
    await store.close();
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
