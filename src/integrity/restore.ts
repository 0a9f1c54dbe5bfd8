// `postkeep restore <backup> --to <dataDir>`: builds a new store from a backup,
// verifying every byte on the way (a blob or queue file that fails its hash is
// left out and reported, not copied), then opens it as Postkeep would and holds
// every mailbox digest to the manifest's. The outbound queue comes back too
// (its rows are in the database, its files in <backup>/queue).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { anchorFile, copyAnchor } from '../security-log/anchor.js';
import { AlreadyExists, DatabaseDamaged } from '../errors.js';
import type { Logger } from '../log.js';
import { FileBlobStore, sha256 } from '../store/blobs/file-blob-store.js';
import { blobDirectoryName, queueDirectoryName } from '../store/data-folder.js';
import type { IntegrityPort } from '../store/integrity-port.js';
import type { ManagedStore } from '../store/managed-store.js';
import { openStore, storeEngine } from '../store/open-store.js';
import { readManifest, type BackupManifest } from './backup-manifest.js';
import { hashFile } from './hash-file.js';
import type { BackupProblem } from './verify-backup.js';

export interface RestoreResult {
  /** True when every mailbox digest equals the manifest's and every blob came back. */
  identical: boolean;
  mailboxes: number;
  matchingMailboxes: number;
  blobs: number;
  problems: BackupProblem[];
}

export async function restoreBackup(backup: string, dataDir: string, log: Logger, options: { onProgress?: (done: number, total: number) => void } = {}): Promise<RestoreResult> {
  const source = path.resolve(backup);
  const target = path.resolve(dataDir);
  const manifest = await readManifest(source);
  const engine = storeEngine();
  if (await engine.holdsStore(target)) {
    throw new AlreadyExists(`${target} already holds a store (${engine.snapshotFileName}); restore into an empty or new folder`);
  }
  const sourceDatabase = path.join(source, manifest.database.file);
  const databaseHash = await hashFile(sourceDatabase).catch(() => null);
  if (!databaseHash || databaseHash.sha256 !== manifest.database.sha256) {
    throw new DatabaseDamaged(`the backup's database ${sourceDatabase} ${databaseHash ? 'does not match the hash in its manifest' : 'is missing'}: this backup cannot be restored`);
  }
  const problems: BackupProblem[] = [];

  await fs.mkdir(path.join(target, blobDirectoryName), { recursive: true });
  const from = new FileBlobStore(path.join(source, blobDirectoryName), log);
  const to = new FileBlobStore(path.join(target, blobDirectoryName), log);
  await to.initialize();
  const directories = new Set<string>();
  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < manifest.blobs.length) {
      const blob = manifest.blobs[next++]!;
      let bytes: Buffer | null = null;
      try {
        bytes = await fs.readFile(from.pathOf(blob.hash));
      } catch {
        problems.push({ kind: 'blob.missing', where: blob.hash, detail: 'listed in the manifest but not in the backup; not restored' });
      }
      if (bytes && sha256(bytes) !== blob.hash) {
        problems.push({ kind: 'blob.mismatch', where: blob.hash, detail: 'the backup’s copy fails verification; not restored' });
      } else if (bytes) {
        const written = await to.write(bytes);
        if (written.directoryToSync) directories.add(written.directoryToSync);
      }
      options.onProgress?.(++done, manifest.blobs.length);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await to.syncDirectories(directories);
  problems.push(...(await restoreQueue(source, target, manifest.queue, log)));

  await engine.installSnapshot(sourceDatabase, target);
  // With the backup's anchor, `log verify` of the restored store checks its chain's end.
  await copyAnchor(anchorFile(source), anchorFile(target));

  // Opened the way the server opens it: WAL back on, an older schema migrated.
  const store: ManagedStore = await openStore({ dataDir: target, log });
  let matchingMailboxes = 0;
  try {
    matchingMailboxes = checkDigests(store.integrity, manifest, problems);
  } finally {
    await store.close();
  }
  return {
    identical: problems.length === 0 && manifest.skipped.length === 0,
    mailboxes: manifest.mailboxes.length,
    matchingMailboxes,
    blobs: manifest.blobs.length,
    problems: [...manifest.skipped.map((item) => ({ kind: `skipped.${item.kind}`, where: item.where, detail: `skipped when the backup was taken: ${item.detail}` })), ...problems],
  };
}

/** Compares every restored mailbox's digest (recomputed and stored) with the manifest's; returns how many match. */
export function checkDigests(store: Pick<IntegrityPort, 'summarizeMailboxes'>, manifest: BackupManifest, problems: BackupProblem[]): number {
  let matching = 0;
  const restored = new Map(store.summarizeMailboxes().map((summary) => [summary.id, summary]));
  for (const expected of manifest.mailboxes) {
    const where = `${expected.account}/${expected.name}`;
    const found = restored.get(expected.id);
    if (!found) problems.push({ kind: 'mailbox.missing', where, detail: 'in the manifest but not in the restored store' });
    else if (found.computedDigest !== expected.digest || found.storedDigest !== expected.digest) {
      problems.push({ kind: 'mailbox.digest', where, detail: `restored ${found.computedDigest}, the manifest says ${expected.digest}` });
    } else matching++;
  }
  return matching;
}

/** Copies the backup's queue files (verified) into <dataDir>/queue; each one that cannot be is a problem. */
async function restoreQueue(source: string, target: string, queue: readonly { hash: string }[], log: Logger): Promise<BackupProblem[]> {
  const problems: BackupProblem[] = [];
  const from = new FileBlobStore(path.join(source, queueDirectoryName), log);
  const to = new FileBlobStore(path.join(target, queueDirectoryName), log);
  await to.initialize();
  for (const file of queue) {
    const bytes = await fs.readFile(from.pathOf(file.hash)).catch(() => null);
    if (!bytes) problems.push({ kind: 'queue.missing', where: file.hash, detail: 'a queued message listed in the manifest but not in the backup; not restored' });
    else if (sha256(bytes) !== file.hash) problems.push({ kind: 'queue.mismatch', where: file.hash, detail: 'the backup’s copy of a queued message fails verification; not restored' });
    // restore() writes, fsyncs and fsyncs the directory.
    else await to.restore(file.hash, bytes);
  }
  return problems;
}
