// The spool folder (`<dataDir>/imap-spool`): where APPEND literals too large to hold in
// memory wait, one file each, until their command runs. Its naming and listing live here,
// outside the IMAP code, because two sides need them: the IMAP server (which writes the
// files, and removes those a crash left at start) and the audit (which reports leftovers).
// The folder holds nothing else; a file there whose writer is gone was left by a crash.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from '../log.js';

export const spoolDirectoryName = 'imap-spool';

// postkeep-append-<pid>-<n>.tmp: the pid tells a live writer from a crashed one.
const filePattern = /^postkeep-append-([0-9]{1,10})-[0-9]+\.tmp$/;
let fileCounter = 0;

/** A new spool file's name in `directory`, unique within this process and marked with its pid. */
export function newSpoolFile(directory: string): string {
  return path.join(directory, `postkeep-append-${process.pid}-${++fileCounter}.tmp`);
}

export interface SpoolFile {
  name: string;
  size: number;
  ageMilliseconds: number;
  /** The process that wrote it, from the name (null: not a name the server gives). */
  writer: number | null;
  /** No live process of that pid (or no pid at all): nobody will read or remove it. */
  writerGone: boolean;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The files in the spool folder (none when the folder does not exist). */
export async function listSpoolFiles(directory: string): Promise<SpoolFile[]> {
  let names: string[];
  try {
    names = await fs.readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const now = Date.now();
  const files: SpoolFile[] = [];
  for (const name of names) {
    let stat;
    try {
      stat = await fs.stat(path.join(directory, name));
    } catch {
      continue; // removed by its writer meanwhile
    }
    if (!stat.isFile()) continue;
    const match = filePattern.exec(name);
    const writer = match ? Number(match[1]) : null;
    files.push({ name, size: stat.size, ageMilliseconds: now - stat.mtimeMs, writer, writerGone: writer === null || !processAlive(writer) });
  }
  return files;
}

/**
 * At server start: removes the spool files a crash left (never acknowledged, so never
 * mail anyone was promised). A file of this very pid is one too (a container restarts
 * with the same pid); one of another live process is left to it.
 */
export async function removeLeftoverSpoolFiles(directory: string, log: Logger): Promise<number> {
  let removed = 0;
  for (const file of await listSpoolFiles(directory)) {
    if (!file.writerGone && file.writer !== process.pid) continue;
    await fs.rm(path.join(directory, file.name), { force: true });
    log.info('imap.spool_leftover_removed', { file: file.name, size: file.size });
    removed++;
  }
  return removed;
}
