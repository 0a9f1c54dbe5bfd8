// What kind of trouble the disk under the store is in, read from the error a write
// failed with: the file system's errno, or the database engine's code for the same
// thing. Protocols use it to answer "not now" precisely (IMAP RFC 5530 LIMIT or
// UNAVAILABLE) instead of calling it a server bug; the error itself is left as it is,
// so that what logs and fault tests see is the original.

/** `full`: no space (or the file system's quota) left; `unavailable`: read-only, or the device fails. */
export type StorageFailure = 'full' | 'unavailable';

const fullCodes = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
const unavailableCodes = new Set(['EROFS', 'EIO', 'ENXIO', 'ENODEV', 'EACCES', 'EPERM', 'SQLITE_CANTOPEN']);
// SQLite's extended codes name the operation after the primary one (SQLITE_IOERR_FSYNC, SQLITE_READONLY_DBMOVED).
const unavailablePrefixes = ['SQLITE_IOERR', 'SQLITE_READONLY'];

/** The storage failure behind `error` (or its causes), or null when it is something else. */
export function storageFailure(error: unknown): StorageFailure | null {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') continue;
    if (fullCodes.has(code)) return 'full';
    if (unavailableCodes.has(code) || unavailablePrefixes.some((prefix) => code.startsWith(prefix))) return 'unavailable';
  }
  return null;
}
