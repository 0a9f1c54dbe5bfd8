// The audit's look at the outbound queue: mail a sender got a 250 for and that
// waits for a remote server is as much in our care as a mailbox's. Every queued
// message's file is re-hashed; a missing or bad one is an error (the queue runner
// would refuse to send it), repaired from a copy's queue folder (a backup keeps
// one) when --repair is given. Orphan queue files and old partial writes are
// notices, as for mailbox blobs.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { sha256 } from '../store/blobs/file-blob-store.js';
import { queueDirectoryName } from '../store/data-folder.js';
import type { IntegrityPort } from '../store/integrity-port.js';
import type { AuditFinding } from './audit.js';
import type { GoodCopy } from './good-copy.js';

export interface QueueCheck {
  findings: AuditFinding[];
  /** Queue files checked and the bytes of the good ones. */
  files: number;
  bytes: number;
}

export async function checkQueueFiles(store: IntegrityPort, options: { repair: boolean; copies: readonly GoodCopy[]; leftoverAgeMilliseconds: number }): Promise<QueueCheck> {
  const files = store.queueFiles;
  const findings: AuditFinding[] = [];
  const queued = store.queuedFiles();
  let bytes = 0;
  for (const message of queued) {
    const state = await files.inspect(message.hash);
    if (state === 'good') {
      bytes += message.size;
      continue;
    }
    // Sent and removed by a running server since the list was read: not a loss.
    if (state === 'missing' && !store.isQueued(message.hash)) continue;
    const finding: AuditFinding =
      state === 'mismatch'
        ? { kind: 'queue.mismatch', severity: 'error', where: `queued message ${message.ids} (${message.hash})`, detail: 'the queued file’s bytes do not hash to its name; it will not be sent' }
        : { kind: 'queue.missing', severity: 'error', where: `queued message ${message.ids} (${message.hash})`, detail: 'the queue refers to this file but it is not there; it cannot be sent' };
    if (options.repair) await repairQueueFile(store, message.hash, state, options.copies, finding);
    findings.push(finding);
  }

  const known = new Set(queued.map((message) => message.hash));
  for await (const hash of files.list()) {
    if (known.has(hash)) continue;
    // Written but not yet committed by an enqueue in flight, or left by a crash between a commit and a removal.
    findings.push({ kind: 'queue.orphan', severity: 'notice', where: hash, detail: 'a queue file no queued message refers to; not deleted' });
  }
  for (const temporary of await files.temporaryFiles()) {
    if (temporary.ageMilliseconds < options.leftoverAgeMilliseconds) continue;
    const finding: AuditFinding = {
      kind: 'queue.temporary_leftover',
      severity: 'notice',
      where: `${queueDirectoryName}/tmp/${temporary.name}`,
      detail: `a partial write ${Math.round(temporary.ageMilliseconds / 1000)} s old, never acknowledged`,
    };
    if (options.repair) {
      await files.removeTemporary(temporary.name);
      finding.repair = 'repaired';
    }
    findings.push(finding);
  }
  return { findings, files: queued.length, bytes };
}

async function repairQueueFile(store: IntegrityPort, hash: string, state: 'missing' | 'mismatch', copies: readonly GoodCopy[], finding: AuditFinding): Promise<void> {
  if (state === 'mismatch') await store.queueFiles.quarantine(hash);
  for (const copy of copies) {
    const bytes = await goodQueueBytes(copy, hash);
    if (bytes === null) continue;
    await store.queueFiles.restore(hash, bytes);
    finding.repair = 'repaired';
    finding.detail += `; restored from ${copy.directory}`;
    return;
  }
  finding.repair = state === 'mismatch' ? 'quarantined' : 'unrepaired';
  finding.detail += copies.length === 0 ? '; no copy given to repair from' : '; no copy holds good bytes';
}

/** The bytes from a copy's queue folder (a backup's), or from its blobs, only when they hash to the name; the copy is only read. */
async function goodQueueBytes(copy: GoodCopy, hash: string): Promise<Buffer | null> {
  try {
    const bytes = await fs.readFile(path.join(copy.directory, queueDirectoryName, hash.slice(0, 2), hash));
    if (sha256(bytes) === hash) return bytes;
  } catch {
    // Not in this copy's queue folder.
  }
  return copy.readBlob(hash);
}
