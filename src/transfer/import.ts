// `postkeep import`: mail from a Maildir/Maildir++ tree or an mbox file into an
// account. Running it again adds nothing: a message whose bytes are already in
// the mailbox (as many times as they are in the source) is skipped.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { InvalidInput, NotFound } from '../errors.js';
import { normalizeFlags } from '../store/flags.js';
import { normalizeMailboxName } from '../store/mailbox-name.js';
import type { AccountStore } from '../store/types.js';
import { isMaildir, listMaildirFolders, listMaildirMessages, type MaildirMessage } from './maildir.js';
import { readMbox } from './mbox.js';
import { canonicalMboxMessage } from './mbox-canonical.js';

export interface ImportOptions {
  onProgress?: (done: number, total: number | null) => void;
  /** Where an mbox goes instead of INBOX; for a Maildir tree, the mailbox its folders go under. */
  mailbox?: string;
}

export interface ImportResult {
  format: 'mbox' | 'maildir';
  imported: number;
  skipped: number;
  mailboxes: string[];
}

interface SourceMessage {
  bytes: Buffer;
  flags: string[];
  internalDate: Date;
}

async function detectFormat(source: string): Promise<'mbox' | 'maildir'> {
  let stat;
  try {
    stat = await fs.stat(source);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new InvalidInput(`${source} does not exist; expected an mbox file or a Maildir directory`);
    throw error;
  }
  if (stat.isDirectory()) {
    if (await isMaildir(source)) return 'maildir';
    throw new InvalidInput(`${source} is a directory but not a Maildir: expected cur/ and new/ in it, or Maildir++ folders such as .Sent/cur`);
  }
  if (stat.size === 0) throw new InvalidInput(`${source} is empty; expected an mbox file starting with "From "`);
  const handle = await fs.open(source, 'r');
  const start = Buffer.alloc(5);
  try {
    await handle.read(start, 0, start.length, 0);
  } finally {
    await handle.close();
  }
  if (start.toString('latin1') === 'From ') return 'mbox';
  throw new InvalidInput(`${source} is not an mbox file (it does not start with "From ") and not a Maildir directory`);
}

/** The flags the store accepts; a keyword it would refuse (spaces, brackets) cannot be kept. */
function storableFlags(flags: readonly string[]): string[] {
  return flags.filter((flag) => {
    try {
      normalizeFlags([flag]);
      return true;
    } catch {
      return false;
    }
  });
}

/** Appends to one mailbox, skipping messages whose bytes it already holds. */
class MailboxImport {
  private constructor(
    private readonly account: AccountStore,
    readonly name: string,
    /** Blob hash → how many copies were there before this import touched the mailbox. */
    private readonly existing: Map<string, number>,
  ) {}

  static async open(account: AccountStore, name: string): Promise<MailboxImport> {
    let mailbox;
    try {
      mailbox = await account.getMailbox(name);
    } catch (error) {
      if (!(error instanceof NotFound)) throw error;
      mailbox = await account.createMailbox(name);
    }
    const existing = new Map<string, number>();
    for (const record of await account.fetch(mailbox.id, { uids: [[1, Infinity]] })) {
      existing.set(record.blobHash, (existing.get(record.blobHash) ?? 0) + 1);
    }
    return new MailboxImport(account, mailbox.name, existing);
  }

  /** True when appended, false when skipped as already there. */
  async add(message: SourceMessage): Promise<boolean> {
    const hash = createHash('sha256').update(message.bytes).digest('hex');
    const copies = this.existing.get(hash) ?? 0;
    if (copies > 0) {
      this.existing.set(hash, copies - 1);
      return false;
    }
    await this.account.append(this.name, message.bytes, { flags: storableFlags(message.flags), internalDate: message.internalDate });
    return true;
  }
}

export async function importMail(account: AccountStore, source: string, options: ImportOptions = {}): Promise<ImportResult> {
  const format = await detectFormat(source);
  const result: ImportResult = { format, imported: 0, skipped: 0, mailboxes: [] };
  const targets = new Map<string, MailboxImport>();
  let total: number | null = null;

  // Two source folders can name one mailbox ("inbox" and "INBOX"); they share what was there before.
  const open = async (name: string) => {
    const normalized = normalizeMailboxName(name);
    let target = targets.get(normalized);
    if (!target) {
      target = await MailboxImport.open(account, normalized);
      targets.set(normalized, target);
      result.mailboxes.push(target.name);
    }
    return target;
  };
  const add = async (target: MailboxImport, message: SourceMessage) => {
    if (await target.add(message)) result.imported++;
    else result.skipped++;
    options.onProgress?.(result.imported + result.skipped, total);
  };

  if (format === 'maildir') {
    const folders = await listMaildirFolders(source);
    const listed: MaildirMessage[][] = [];
    for (const folder of folders) listed.push(await listMaildirMessages(folder));
    total = listed.reduce((sum, messages) => sum + messages.length, 0);
    for (const [index, folder] of folders.entries()) {
      const parent = options.mailbox;
      // Empty folders are created too, so the tree keeps its shape.
      const target = await open(parent === undefined ? folder.name : folder.name === 'INBOX' ? parent : `${parent}/${folder.name}`);
      for (const message of listed[index]!) {
        await add(target, { bytes: await fs.readFile(message.file), flags: message.flags, internalDate: message.internalDate });
      }
    }
  } else {
    const target = await open(options.mailbox ?? 'INBOX');
    // Stored as RFC 5322 with CRLF and without the fields that only the mbox needed.
    for await (const message of readMbox(source)) await add(target, { ...message, bytes: canonicalMboxMessage(message.bytes) });
  }
  return result;
}
