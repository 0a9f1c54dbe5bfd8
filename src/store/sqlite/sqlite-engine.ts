// The SQLite engine as integrity/ sees a store that is not open: one database file
// (postkeep.db) in the data folder, which is also what a backup's snapshot is.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyFileDurably, syncDirectory } from '../../durable-files.js';
import { InvalidInput } from '../../errors.js';
import type { StoreEngine } from '../store-engine.js';
import { describeDatabaseError } from './read-only-database.js';
import { SqliteSnapshot } from './sqlite-snapshot.js';
import { databaseFileName } from './sqlite-store.js';

export const sqliteEngine: StoreEngine = {
  name: 'sqlite',
  snapshotFileName: databaseFileName,

  async holdsStore(dataDir) {
    return (await fs.promises.stat(path.join(dataDir, databaseFileName)).catch(() => null)) !== null;
  },

  holdsSnapshot(directory) {
    return fs.existsSync(path.join(directory, databaseFileName));
  },

  openSnapshot(file) {
    return SqliteSnapshot.open(file);
  },

  openSnapshotIn(directory) {
    const file = path.join(path.resolve(directory), databaseFileName);
    if (!fs.existsSync(file)) throw new InvalidInput(`${directory} is not a Postkeep data folder or backup: it has no ${databaseFileName}`);
    return SqliteSnapshot.open(file);
  },

  describeError(location, error) {
    return describeDatabaseError(location, error);
  },

  async clearBeside(file) {
    // A stale -wal from an earlier reader must not be replayed onto the new file.
    await fs.promises.rm(`${file}-wal`, { force: true });
    await fs.promises.rm(`${file}-shm`, { force: true });
  },

  async installSnapshot(snapshotFile, dataDir) {
    await copyFileDurably(snapshotFile, path.join(dataDir, databaseFileName));
  },

  async setAside(dataDir, aside) {
    // The write-ahead log and its index go with it: they may hold committed pages.
    for (const suffix of ['', '-wal', '-shm']) {
      await fs.promises.rename(path.join(dataDir, `${databaseFileName}${suffix}`), path.join(aside, `${databaseFileName}${suffix}`)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
    await syncDirectory(dataDir);
    return path.join(aside, databaseFileName);
  },
};
