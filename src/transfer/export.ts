// `postkeep export`: an account's mail as a Maildir++ tree that Dovecot, Courier,
// mutt or another Postkeep can read. A message whose stored bytes fail verification
// is reported and left out; it never stops the rest from being saved.
import * as fs from 'node:fs/promises';
import { IntegrityError, InvalidInput } from '../errors.js';
import type { AccountStore, MessageRecord } from '../store/types.js';
import { syncDirectory } from '../durable-files.js';
import { MaildirFolderWriter } from './maildir.js';

export interface ExportOptions {
  onProgress?: (done: number, total: number) => void;
}

export interface ExportFailure {
  mailbox: string;
  uid: number;
  reason: string;
}

export interface ExportResult {
  exported: number;
  mailboxes: number;
  failed: ExportFailure[];
}

/** Mixing into an existing tree could give one message two files, so the destination must be new or empty. */
async function prepareDestination(destination: string): Promise<void> {
  try {
    const stat = await fs.stat(destination);
    if (!stat.isDirectory()) throw new InvalidInput(`${destination} exists and is not a directory; expected a new or empty directory for the Maildir`);
    if ((await fs.readdir(destination)).length > 0) throw new InvalidInput(`${destination} is not empty; expected a new or empty directory for the Maildir`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await fs.mkdir(destination, { recursive: true });
  }
}

/** The mailbox's keywords, most used first, since only 26 fit in Maildir file names. */
function keywordsByUse(records: readonly MessageRecord[]): string[] {
  const counts = new Map<string, number>();
  for (const record of records) {
    for (const flag of record.flags) if (!flag.startsWith('\\')) counts.set(flag, (counts.get(flag) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([keyword]) => keyword);
}

export async function exportMail(account: AccountStore, destination: string, options: ExportOptions = {}): Promise<ExportResult> {
  await prepareDestination(destination);
  const mailboxes = await account.listMailboxes();
  const total = mailboxes.reduce((sum, mailbox) => sum + mailbox.messages, 0);
  const result: ExportResult = { exported: 0, mailboxes: 0, failed: [] };
  let done = 0;
  for (const mailbox of mailboxes) {
    const withheld: number[] = [];
    const records = await account.fetch(mailbox.id, { uids: [[1, Infinity]], onWithheld: (uid) => withheld.push(uid) });
    // A record that failed its checksum is not handed out: reported like a message that failed verification.
    for (const uid of withheld) result.failed.push({ mailbox: mailbox.name, uid, reason: `the record of UID ${uid} failed verification; run \`postkeep audit\`` });
    const folder = await MaildirFolderWriter.create(destination, mailbox.name, keywordsByUse(records));
    for (const record of records) {
      let bytes: Buffer;
      try {
        bytes = await account.readMessage(mailbox.id, record.uid);
      } catch (error) {
        if (!(error instanceof IntegrityError)) throw error;
        result.failed.push({ mailbox: mailbox.name, uid: record.uid, reason: error.message });
        options.onProgress?.(++done, total);
        continue;
      }
      await folder.write(bytes, { uid: record.uid, uidValidity: mailbox.uidValidity, flags: record.flags, internalDate: record.internalDate });
      result.exported++;
      options.onProgress?.(++done, total);
    }
    await folder.close();
    result.mailboxes++;
  }
  await syncDirectory(destination);
  return result;
}
