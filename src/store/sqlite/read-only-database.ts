// Opening another store's database (a backup, a copy, the other side of a
// compare) without changing it: read-only, no migration. A damaged file is
// refused with a message that names it and says what to do.
import Database from 'better-sqlite3';
import { DatabaseDamaged, InvalidInput } from '../../errors.js';

export type ReadOnlyDatabase = Database.Database;

export function openReadOnlyDatabase(file: string): ReadOnlyDatabase {
  let database: ReadOnlyDatabase;
  try {
    database = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new InvalidInput(`cannot open the database ${file}: ${(error as Error).message}`);
  }
  try {
    database.pragma('busy_timeout = 10000');
    database.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (error) {
    database.close();
    throw describeDatabaseError(file, error);
  }
  return database;
}

/** A SQLite error turned into one a person can act on; other errors pass through. */
export function describeDatabaseError(file: string, error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
    return new DatabaseDamaged(`the database ${file} is damaged (${(error as Error).message}): restore it from a backup with \`postkeep restore\``);
  }
  return error;
}
