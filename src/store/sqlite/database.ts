// Opening the SQLite database: durability pragmas and schema migrations.
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SchemaTooNew } from '../../errors.js';
import type { Logger } from '../../log.js';
import { migrations as releasedMigrations, type Migration } from './schema.js';

export type SqliteDatabase = Database.Database;

/**
 * Opens (creating if needed) the database at `file`. An older schema is migrated
 * in one transaction after a copy of the database is saved beside it; a newer one
 * is refused, since this code cannot know what the newer columns mean.
 */
export async function openDatabase(file: string, log: Logger, migrations: readonly Migration[] = releasedMigrations): Promise<SqliteDatabase> {
  // Private from the first byte, whatever the umask: it holds password hashes and
  // keys. SQLite gives its -wal and -shm files the database file's mode.
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  const db = new Database(file);
  try {
    // First, so that a command opening the database while the server writes waits
    // for the lock instead of failing at once with SQLITE_BUSY.
    db.pragma('busy_timeout = 10000');
    // Invariant 1: WAL with synchronous=FULL fsyncs the log at every commit.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    await migrate(db, file, log, migrations);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

async function migrate(db: SqliteDatabase, file: string, log: Logger, migrations: readonly Migration[]): Promise<void> {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations[migrations.length - 1]!.version;
  if (current > latest) {
    throw new SchemaTooNew(
      `the database ${file} has schema version ${current}, but this Postkeep knows only up to ${latest}: ` +
        `run a Postkeep release at least as new as the one that wrote it, or restore the copy saved before that upgrade (in ${path.join(path.dirname(file), 'backups')})`,
    );
  }
  if (current === latest) return;
  if (current > 0) {
    const copy = path.join(path.dirname(file), 'backups', `${path.basename(file, '.db')}-v${current}-${new Date().toISOString().replace(/[:.]/g, '-')}.db`);
    fs.mkdirSync(path.dirname(copy), { recursive: true, mode: 0o700 });
    await db.backup(copy);
    fs.chmodSync(copy, 0o600);
    log.info('schema.backup_taken', { from: current, file: copy });
  }
  const pending = migrations.filter((migration) => migration.version > current);
  db.transaction(() => {
    for (const migration of pending) db.exec(migration.sql);
    db.pragma(`user_version = ${latest}`);
  })();
  log.info('schema.migrated', { from: current, to: latest, steps: pending.map((migration) => migration.description) });
}
