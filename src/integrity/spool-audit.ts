// The audit's look at the IMAP spool (`<dataDir>/imap-spool`): a file there is an APPEND
// literal on its way in. One whose writing process is gone, or untouched for longer than
// a write in flight could be, was left by a crash: never acknowledged, so no mail is
// lost, but it holds disk space. A notice; --repair (and the next server start) removes
// the ones whose writer is gone. A live server's uploads are left alone.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { listSpoolFiles, spoolDirectoryName } from '../server/spool-folder.js';
import type { IntegrityPort } from '../store/integrity-port.js';
import type { AuditFinding } from './audit.js';

/** The spool folder of the data folder that holds this store's blobs. */
export function spoolDirectoryOf(store: Pick<IntegrityPort, 'dataDirectory'>): string {
  return path.join(store.dataDirectory, spoolDirectoryName);
}

export async function checkSpoolFiles(store: Pick<IntegrityPort, 'dataDirectory'>, options: { repair: boolean; leftoverAgeMilliseconds: number }): Promise<AuditFinding[]> {
  const directory = spoolDirectoryOf(store);
  const findings: AuditFinding[] = [];
  for (const file of await listSpoolFiles(directory)) {
    if (!file.writerGone && file.ageMilliseconds < options.leftoverAgeMilliseconds) continue;
    const writer = file.writer === null ? 'no server process wrote it' : file.writerGone ? `its writer (process ${file.writer}) is gone` : `process ${file.writer} has not written it for ${Math.round(file.ageMilliseconds / 1000)} s`;
    const finding: AuditFinding = {
      kind: 'imap.spool_leftover',
      severity: 'notice',
      where: `${spoolDirectoryName}/${file.name}`,
      detail: `an APPEND literal of ${file.size} bytes, never acknowledged; ${writer}`,
    };
    if (options.repair && file.writerGone) {
      await fs.rm(path.join(directory, file.name), { force: true });
      finding.repair = 'repaired';
    }
    findings.push(finding);
  }
  return findings;
}
