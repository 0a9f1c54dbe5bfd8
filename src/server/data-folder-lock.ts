// The data folder's exclusive lock: held by a running server and by every command
// that must run alone (restore --in-place, audit --repair, import, undelete), so two
// servers never run the outbound queue from two memories and no repair rewrites a
// database under a live server. Read-only commands and the small admin writes
// (user add, …) do not take it: SQLite already serialises those.
//
// Node has no flock(2), so the lock is a file created with O_EXCL that holds the
// holder's pid and what it is doing. A lock whose pid is no longer alive (a crash,
// SIGKILL, a power cut) is stale and taken over, with a log event. Limits: the pid
// is only meaningful on this machine (not over NFS, not shared between containers
// with separate pid namespaces), and a reused pid makes a stale lock look held; the
// refusal names the file, which an admin who knows better may remove.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PostkeepError } from '../errors.js';
import type { Logger } from '../log.js';

export const lockFileName = 'postkeep.lock';

/** The folder is locked by another living process. */
export class DataFolderLocked extends PostkeepError {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
    readonly holderPurpose: string,
  ) {
    super(
      'data_folder.locked',
      `the data folder ${dataDir} is in use by postkeep pid ${holderPid} (${holderPurpose}); stop it first ` +
        `(if no such postkeep process runs, remove ${path.join(dataDir, lockFileName)})`,
    );
  }
}

export interface DataFolderLock {
  readonly file: string;
  /** Removes the lock file if it is still ours; safe to call more than once. */
  release(): void;
}

interface Holder {
  pid: number;
  purpose: string;
}

function readHolder(file: string): Holder | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const match = /^(\d+)(?: (.*))?\n?$/.exec(text);
  // A lock file cut short by a crash while it was being written holds no pid: stale.
  if (!match) return { pid: 0, purpose: 'unreadable lock file' };
  return { pid: Number(match[1]), purpose: match[2] ?? 'unknown' };
}

function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user; it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data folder's lock for `purpose` (e.g. "start", "audit --repair"), or
 * throws DataFolderLocked naming the living holder. The folder must exist.
 */
export function lockDataFolder(dataDir: string, purpose: string, log: Logger): DataFolderLock {
  const file = path.join(dataDir, lockFileName);
  // Two attempts: the second after taking a stale lock away.
  for (let attempt = 0; attempt < 2; attempt++) {
    let descriptor: number;
    try {
      descriptor = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(file);
      if (holder === null) continue;
      if (isAlive(holder.pid)) throw new DataFolderLocked(dataDir, holder.pid, holder.purpose);
      log.warn('server.lock_stale', { file, pid: holder.pid, purpose: holder.purpose });
      fs.rmSync(file, { force: true });
      continue;
    }
    try {
      fs.writeSync(descriptor, `${process.pid} ${purpose}\n`);
      fs.fsyncSync(descriptor);
    } finally {
      fs.closeSync(descriptor);
    }
    return lockHeld(file);
  }
  const holder = readHolder(file);
  throw new DataFolderLocked(dataDir, holder?.pid ?? 0, holder?.purpose ?? 'unknown');
}

function lockHeld(file: string): DataFolderLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    // Only our own: a lock taken over after ours went stale belongs to someone else.
    if (readHolder(file)?.pid === process.pid) fs.rmSync(file, { force: true });
  };
  // process.exit() from a signal handler skips finally blocks; 'exit' still runs.
  process.on('exit', release);
  return { file, release };
}
