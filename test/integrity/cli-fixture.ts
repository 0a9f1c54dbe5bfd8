// A data folder for the integrity command tests, made through the library (the
// commands under test run as child processes; building the folder that way too
// would only add process start-ups): one account, two messages, the store closed.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { createMemoryLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open-store.js';
import type { SqliteMailStore } from '../../src/store/sqlite/sqlite-store.js';
import { sampleMessage, temporaryDirectory } from '../helpers/temporary-store.js';

export interface CliFixture {
  root: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** Opens the store, runs `work`, closes it: the commands must find it closed. */
  withStore<T>(work: (store: SqliteMailStore) => Promise<T>): Promise<T>;
  dispose(): Promise<void>;
}

export async function createCliFixture(prefix: string): Promise<CliFixture> {
  const root = await temporaryDirectory(prefix);
  const dataDir = path.join(root, 'data');
  const withStore = async <T>(work: (store: SqliteMailStore) => Promise<T>): Promise<T> => {
    const store = await openStore({ dataDir, log: createMemoryLogger() });
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  };
  await withStore(async (store) => {
    await store.admin.addDomain('example.com');
    await store.admin.addAccount('alice@example.com', 'not-a-real-hash');
    const account = await store.account('alice@example.com');
    await account.append('INBOX', sampleMessage({ subject: 'one' }));
    await account.append('INBOX', sampleMessage({ subject: 'two' }));
  });
  return { root, dataDir, env: { POSTKEEP_DATA: dataDir, POSTKEEP_CONFIG: '' }, withStore, dispose: () => fs.rm(root, { recursive: true, force: true }) };
}
