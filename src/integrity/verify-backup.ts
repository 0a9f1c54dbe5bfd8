// `postkeep backup verify <dest>`: re-hashes everything in a backup against its
// manifest — the database file, every blob and outbound-queue file, every record
// checksum and mailbox digest — and lists each problem instead of stopping at the first.
import * as path from 'node:path';
import { FileBlobStore } from '../store/blobs/file-blob-store.js';
import { blobDirectoryName, queueDirectoryName } from '../store/data-folder.js';
import { storeEngine } from '../store/open-store.js';
import type { Logger } from '../log.js';
import { readManifest, type BackupManifest } from './backup-manifest.js';
import { hashFile } from './hash-file.js';

export interface BackupProblem {
  kind: string;
  where: string;
  detail: string;
}

export interface BackupVerification {
  ok: boolean;
  manifest: BackupManifest;
  blobs: number;
  bytes: number;
  mailboxes: number;
  problems: BackupProblem[];
}

export async function verifyBackup(directory: string, log: Logger, options: { onProgress?: (done: number, total: number) => void } = {}): Promise<BackupVerification> {
  const root = path.resolve(directory);
  const manifest = await readManifest(root);
  const problems: BackupProblem[] = manifest.skipped.map((item) => ({ kind: `skipped.${item.kind}`, where: item.where, detail: `skipped when the backup was taken: ${item.detail}` }));

  const databaseFile = path.join(root, manifest.database.file);
  const database = await hashFile(databaseFile).catch(() => null);
  if (!database) problems.push({ kind: 'database.missing', where: manifest.database.file, detail: 'the database file is missing' });
  else if (database.sha256 !== manifest.database.sha256) problems.push({ kind: 'database.checksum', where: manifest.database.file, detail: `the file hashes to ${database.sha256}, the manifest says ${manifest.database.sha256}` });
  else problems.push(...checkDatabase(databaseFile, manifest));

  const blobs = new FileBlobStore(path.join(root, blobDirectoryName), log);
  let bytes = 0;
  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < manifest.blobs.length) {
      const blob = manifest.blobs[next++]!;
      const state = await blobs.inspect(blob.hash);
      if (state === 'good') bytes += blob.size;
      else problems.push({ kind: `blob.${state}`, where: blob.hash, detail: state === 'missing' ? 'listed in the manifest but not in the backup' : 'the bytes do not hash to the name' });
      options.onProgress?.(++done, manifest.blobs.length);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const queue = new FileBlobStore(path.join(root, queueDirectoryName), log);
  for (const file of manifest.queue) {
    const state = await queue.inspect(file.hash);
    if (state === 'good') bytes += file.size;
    else problems.push({ kind: `queue.${state}`, where: file.hash, detail: state === 'missing' ? 'a queued message listed in the manifest but not in the backup' : 'the queued message’s bytes do not hash to the name' });
  }
  return { ok: problems.length === 0, manifest, blobs: manifest.blobs.length, bytes, mailboxes: manifest.mailboxes.length, problems };
}

/** The snapshot's own structure, then each mailbox recomputed from its records against the manifest's digest. */
function checkDatabase(file: string, manifest: BackupManifest): BackupProblem[] {
  const problems: BackupProblem[] = [];
  const database = storeEngine().openSnapshot(file);
  try {
    for (const line of database.structureProblems()) problems.push({ kind: 'database.integrity', where: manifest.database.file, detail: line });
    const summaries = new Map(database.summarizeMailboxes().map((summary) => [summary.id, summary]));
    for (const expected of manifest.mailboxes) {
      const where = `${expected.account}/${expected.name}`;
      const found = summaries.get(expected.id);
      if (!found) {
        problems.push({ kind: 'mailbox.missing', where, detail: 'in the manifest but not in the database' });
        continue;
      }
      for (const uid of found.corruptRecords) problems.push({ kind: 'record.checksum', where: `${where} UID ${uid}`, detail: 'the record does not match its checksum' });
      if (found.computedDigest !== expected.digest) problems.push({ kind: 'mailbox.digest', where, detail: `recomputed ${found.computedDigest}, the manifest says ${expected.digest}` });
    }
  } finally {
    database.close();
  }
  return problems;
}
