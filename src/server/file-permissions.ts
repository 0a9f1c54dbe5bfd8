// Who may read the data folder: only the user Postkeep runs as. It holds argon2
// hashes, TOTP secrets, DKIM and TLS private keys and every message, so the folder
// is 0700 and what is in it 0600 (directories 0700). A folder made by an older
// version, or by hand, is put right at every start and every command, and each
// change is logged: an admin should learn that the files were open to everyone.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log.js';

/** What the process creates from now on: nothing for group or others. */
export const restrictiveUmask = 0o077;

export const privateDirectoryMode = 0o700;
export const privateFileMode = 0o600;

/**
 * Folders whose contents are not walked: the blob tree can hold millions of files,
 * and a 0700 data folder already keeps everyone else from reaching them.
 */
const unwalkedDirectories = new Set(['blobs']);

export interface PermissionReport {
  fixed: number;
  /** Paths whose mode could not be changed (another owner, a read-only disk). */
  unfixable: number;
}

/** Makes `dataDir` (and the roots of `extraDirectories`, e.g. blob mirrors) private to this user. */
export function secureDataFolder(dataDir: string, log: Logger, extraDirectories: readonly string[] = []): PermissionReport {
  const report: PermissionReport = { fixed: 0, unfixable: 0 };
  secure(dataDir, privateDirectoryMode, log, report);
  walk(dataDir, true, log, report);
  for (const directory of extraDirectories) secure(directory, privateDirectoryMode, log, report);
  return report;
}

function walk(directory: string, top: boolean, log: Logger, report: PermissionReport): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(directory, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const child = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      secure(child, privateDirectoryMode, log, report);
      if (!(top && unwalkedDirectories.has(entry.name))) walk(child, false, log, report);
    } else if (entry.isFile()) {
      secure(child, privateFileMode, log, report);
    }
    // Symbolic links and sockets are left alone: chmod would follow a link out of the folder.
  }
}

function secure(target: string, wanted: number, log: Logger, report: PermissionReport): void {
  let mode: number;
  try {
    // stat, not lstat: a data folder that is a symbolic link is judged by what it points
    // to (walked entries are never links, see walk()).
    mode = fs.statSync(target).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  // Group and others lose everything; the owner's bits stay (a 0755 file keeps its x).
  if ((mode & 0o077) === 0) return;
  const fixedMode = wanted === privateDirectoryMode ? privateDirectoryMode : mode & 0o700;
  try {
    fs.chmodSync(target, fixedMode);
  } catch (error) {
    report.unfixable++;
    log.warn('server.permissions_unfixable', { path: target, mode: octal(mode), error: String(error) });
    return;
  }
  report.fixed++;
  log.warn('server.permissions_fixed', { path: target, from: octal(mode), to: octal(fixedMode) });
}

function octal(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0');
}
