// `postkeep restore <backup> --to <dataDir> --in-place`, with the server stopped:
// the repair for a damaged database page. A damaged page cannot be rebuilt, so the
// database comes back from the backup, but the data folder is kept:
//   1. the damaged database (with what the engine keeps beside it) moves to
//      <dataDir>/damaged-<time>/, never deleted;
//   2. blobs and queue files stay in place; only a copy that is missing or fails
//      its hash is rewritten from the backup (verified);
//   3. the backup's database goes into place, is opened as the server would, and
//      every mailbox digest is held to the manifest's (the proof);
//   4. then mail acknowledged after the backup is re-linked from the damaged
//      database where its rows can still be read: each row whose record checksum
//      verifies and whose blob is in place and good is appended again (same
//      account and mailbox, same flags and INTERNALDATE, a new UID). A row that
//      cannot be read leaves its blob in place, unreferenced (audit lists it as an
//      orphan; orphans are never deleted), and it is counted here.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { DatabaseDamaged, InvalidInput, NotFound } from '../errors.js';
import type { Logger } from '../log.js';
import { decodeFlags } from '../store/flags.js';
import { FileBlobStore, sha256 } from '../store/blobs/file-blob-store.js';
import { blobDirectoryName, queueDirectoryName } from '../store/data-folder.js';
import type { ManagedStore } from '../store/managed-store.js';
import { openStore, storeEngine } from '../store/open-store.js';
import type { LocatedRecord } from '../store/store-snapshot.js';
import { storedRecordChecksum } from '../store/stored-record.js';
import { readManifest } from './backup-manifest.js';
import { checkDigests } from './restore.js';
import { hashFile } from './hash-file.js';
import type { BackupProblem } from './verify-backup.js';

export interface InPlaceRestoreResult {
  /** Every mailbox digest equalled the manifest's right after the database was put back (before re-linking). */
  identical: boolean;
  mailboxes: number;
  matchingMailboxes: number;
  /** Blob and queue files already good in the data folder, left untouched. */
  keptFiles: number;
  /** Missing or bad copies rewritten from the backup. */
  copiedFiles: number;
  /** Messages newer than the backup appended again from the damaged database's readable rows. */
  relinked: number;
  /** Blobs in the data folder that no message refers to afterwards (newer mail whose row was unreadable, or expunged mail). */
  unlinkedBlobs: number;
  /** Where the damaged database was moved. */
  damagedDatabase: string;
  problems: BackupProblem[];
}

export async function restoreInPlace(backup: string, dataDir: string, log: Logger): Promise<InPlaceRestoreResult> {
  const source = path.resolve(backup);
  const target = path.resolve(dataDir);
  const manifest = await readManifest(source);
  const engine = storeEngine();
  if (!(await engine.holdsStore(target))) throw new InvalidInput(`${target} holds no store (${engine.snapshotFileName}); use \`postkeep restore\` without --in-place`);
  const sourceDatabase = path.join(source, manifest.database.file);
  const databaseHash = await hashFile(sourceDatabase).catch(() => null);
  if (!databaseHash || databaseHash.sha256 !== manifest.database.sha256) {
    throw new DatabaseDamaged(`the backup's database ${sourceDatabase} ${databaseHash ? 'does not match the hash in its manifest' : 'is missing'}: this backup cannot be restored`);
  }
  const problems: BackupProblem[] = [];

  // 1. The damaged database is kept aside: the re-linking below reads it, an admin may want it.
  const damagedDirectory = path.join(target, `damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await fs.mkdir(damagedDirectory);
  const damagedSnapshot = await engine.setAside(target, damagedDirectory);

  // 2. Files stay where they are; only a bad or missing copy comes from the backup.
  let keptFiles = 0;
  let copiedFiles = 0;
  for (const [folder, files] of [[blobDirectoryName, manifest.blobs], [queueDirectoryName, manifest.queue]] as const) {
    const live = new FileBlobStore(path.join(target, folder), log);
    await live.initialize();
    const from = new FileBlobStore(path.join(source, folder), log);
    for (const file of files) {
      if ((await live.inspect(file.hash)) === 'good') {
        keptFiles++;
        continue;
      }
      const bytes = await fs.readFile(from.pathOf(file.hash)).catch(() => null);
      if (!bytes || sha256(bytes) !== file.hash) {
        problems.push({ kind: `${folder === blobDirectoryName ? 'blob' : 'queue'}.${bytes ? 'mismatch' : 'missing'}`, where: file.hash, detail: 'bad or missing in the data folder and in the backup; not restored' });
        continue;
      }
      await live.restore(file.hash, bytes);
      copiedFiles++;
    }
  }

  // 3. The backup's database into place, then the proof.
  await engine.installSnapshot(sourceDatabase, target);

  const store: ManagedStore = await openStore({ dataDir: target, log });
  let matchingMailboxes = 0;
  let relinked = 0;
  let unlinkedBlobs = 0;
  let problemsBeforeRelink = 0;
  try {
    matchingMailboxes = checkDigests(store.integrity, manifest, problems);
    problemsBeforeRelink = problems.length;
    // 4. Mail acknowledged after the backup, where the damaged database still tells where it belongs.
    relinked = await relinkNewerMail(store, damagedSnapshot, problems, log);
    await store.integrity.settle();
    const referenced = store.integrity.knownBlobHashes();
    for await (const hash of store.integrity.blobs.list()) if (!referenced.has(hash)) unlinkedBlobs++;
  } finally {
    await store.close();
  }
  log.info('integrity.restored_in_place', { dataDir: target, backup: source, keptFiles, copiedFiles, relinked, unlinkedBlobs, problems: problems.length });
  return {
    identical: matchingMailboxes === manifest.mailboxes.length && problemsBeforeRelink === 0 && manifest.skipped.length === 0,
    mailboxes: manifest.mailboxes.length,
    matchingMailboxes,
    keptFiles,
    copiedFiles,
    relinked,
    unlinkedBlobs,
    damagedDatabase: damagedDirectory,
    problems: [...manifest.skipped.map((item) => ({ kind: `skipped.${item.kind}`, where: item.where, detail: `skipped when the backup was taken: ${item.detail}` })), ...problems],
  };
}

/** Appends again every message the damaged database still describes (checksum good) that the backup lacks. */
async function relinkNewerMail(store: ManagedStore, damagedFile: string, problems: BackupProblem[], log: Logger): Promise<number> {
  let rows: LocatedRecord[];
  try {
    const damaged = storeEngine().openSnapshot(damagedFile);
    try {
      rows = damaged.allRecords();
    } finally {
      damaged.close();
    }
  } catch (error) {
    problems.push({ kind: 'relink.unreadable', where: damagedFile, detail: `the damaged database's messages cannot be read (${(error as Error).message}); mail newer than the backup stays in place as unreferenced blobs` });
    return 0;
  }
  let relinked = 0;
  for (const row of rows) {
    if (store.integrity.holdsMessage(row.mailbox_object_id, row.email_id)) continue;
    const where = `${row.login} ${row.mailbox_object_id} UID ${row.uid}`;
    // A row the damage may have touched is not trusted to say where mail belongs.
    if (storedRecordChecksum(row.mailbox_object_id, row) !== row.checksum) {
      problems.push({ kind: 'relink.record_checksum', where, detail: 'the damaged database’s row fails its checksum; not re-linked' });
      continue;
    }
    try {
      const bytes = await store.integrity.blobs.read(row.blob_hash);
      const account = await store.account(row.login);
      const mailbox = await account.getMailboxById(row.mailbox_object_id).catch((error: unknown) => {
        if (error instanceof NotFound) return account.getMailbox('INBOX');
        throw error;
      });
      const appended = await account.append(mailbox.name, bytes, { flags: decodeFlags(row.flags), internalDate: new Date(row.internal_date) });
      log.warn('integrity.relinked', { login: row.login, mailbox: mailbox.name, oldUid: row.uid, uid: appended.uid, blob: row.blob_hash });
      relinked++;
    } catch (error) {
      problems.push({ kind: 'relink.failed', where, detail: String((error as Error).message ?? error) });
    }
  }
  return relinked;
}
