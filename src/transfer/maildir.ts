// Maildir and Maildir++ trees (the layout Dovecot and Courier use): reading one
// for import, writing one for export. Flags live in the file name's `:2,` info
// suffix; keywords are the letters a–z, named per folder in `dovecot-keywords`.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { syncDirectory } from '../durable-files.js';
import { decodeModifiedUtf7, encodeModifiedUtf7 } from './modified-utf7.js';

export interface MaildirFolder {
  /** The store's name for it: `INBOX` for the root, `Lists/Work` for `.Lists.Work`. */
  name: string;
  directory: string;
}

export interface MaildirMessage {
  file: string;
  flags: string[];
  internalDate: Date;
}

export interface MaildirMessageToWrite {
  uid: number;
  uidValidity: number;
  flags: readonly string[];
  internalDate: Date;
}

const letterToFlag: Record<string, string> = { D: '\\Draft', F: '\\Flagged', R: '\\Answered', S: '\\Seen', T: '\\Deleted' };
const flagToLetter = new Map(Object.entries(letterToFlag).map(([letter, flag]) => [flag, letter]));
const keywordLetters = 'abcdefghijklmnopqrstuvwxyz';
const keywordsFile = 'dovecot-keywords';
// `:` is the standard separator; `;` is what tools use where `:` cannot be in a file name.
const infoPattern = /[:;]2,([A-Za-z]*)$/;

async function isDirectory(target: string): Promise<boolean> {
  try {
    return (await fs.stat(target)).isDirectory();
  } catch {
    return false;
  }
}

async function hasMessageDirectories(directory: string): Promise<boolean> {
  return (await isDirectory(path.join(directory, 'cur'))) || (await isDirectory(path.join(directory, 'new')));
}

/** `Lists.Work` → `Lists/Work`; levels are modified UTF-7 unless they do not decode as such. */
function folderName(directoryName: string): string | null {
  const levels = directoryName.split('.').filter((level) => level !== '');
  if (levels.length === 0) return null;
  return levels.map((level) => decodeModifiedUtf7(level) ?? level).join('/');
}

function folderDirectoryName(mailboxName: string): string {
  // A `.` inside a level would read back as a new level, so it is encoded too.
  return '.' + mailboxName.split('/').map((level) => encodeModifiedUtf7(level, '.')).join('.');
}

export async function listMaildirFolders(root: string): Promise<MaildirFolder[]> {
  const folders: MaildirFolder[] = [];
  if (await hasMessageDirectories(root)) folders.push({ name: 'INBOX', directory: root });
  const entries = await fs.readdir(root, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!entry.isDirectory() || !entry.name.startsWith('.')) continue;
    const directory = path.join(root, entry.name);
    const name = folderName(entry.name.slice(1));
    if (name !== null && (await hasMessageDirectories(directory))) folders.push({ name, directory });
  }
  return folders;
}

export async function isMaildir(root: string): Promise<boolean> {
  return (await isDirectory(root)) && (await listMaildirFolders(root)).length > 0;
}

async function readKeywordLetters(directory: string): Promise<Map<string, string>> {
  const letters = new Map<string, string>();
  let text: string;
  try {
    text = await fs.readFile(path.join(directory, keywordsFile), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return letters;
    throw error;
  }
  for (const line of text.split('\n')) {
    const match = /^(\d+) (.+)$/.exec(line.trimEnd());
    if (match && Number(match[1]) < keywordLetters.length) letters.set(keywordLetters[Number(match[1])]!, match[2]!);
  }
  return letters;
}

function flagsFromInfo(info: string, keywords: Map<string, string>): string[] {
  const flags = new Set<string>();
  for (const letter of info) {
    // Letters with no IMAP meaning (P, passed) or no keyword name are dropped.
    const flag = letterToFlag[letter] ?? keywords.get(letter);
    if (flag !== undefined) flags.add(flag);
  }
  return [...flags];
}

/** The folder's messages, oldest first; those still in `new/` have not been seen. */
export async function listMaildirMessages(folder: MaildirFolder): Promise<MaildirMessage[]> {
  const keywords = await readKeywordLetters(folder.directory);
  const messages: MaildirMessage[] = [];
  for (const subdirectory of ['cur', 'new']) {
    const directory = path.join(folder.directory, subdirectory);
    if (!(await isDirectory(directory))) continue;
    for (const name of await fs.readdir(directory)) {
      if (name.startsWith('.')) continue;
      const file = path.join(directory, name);
      const stat = await fs.stat(file);
      if (!stat.isFile()) continue;
      let flags = flagsFromInfo(infoPattern.exec(name)?.[1] ?? '', keywords);
      if (subdirectory === 'new') flags = flags.filter((flag) => flag !== '\\Seen');
      messages.push({ file, flags, internalDate: stat.mtime });
    }
  }
  const byName = new Intl.Collator('en', { numeric: true });
  return messages.sort((a, b) => a.internalDate.getTime() - b.internalDate.getTime() || byName.compare(a.file, b.file));
}


/** Writes a file durably: to `tmp/`, fsynced, then renamed into place (the Maildir delivery protocol). */
async function writeDurably(temporary: string, destination: string, bytes: Buffer | string, modified?: Date): Promise<void> {
  const handle = await fs.open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    if (modified) await handle.utimes(modified, modified);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, destination);
}

/** One folder of an exported tree; `close` must be called for its entries to be durable. */
export class MaildirFolderWriter {
  private readonly letters = new Map<string, string>();

  private constructor(
    readonly directory: string,
    keywords: readonly string[],
  ) {
    keywords.slice(0, keywordLetters.length).forEach((keyword, index) => this.letters.set(keyword, keywordLetters[index]!));
  }

  /**
   * `keywords` most used first: a file name has room for 26, so any beyond those
   * are not written.
   */
  static async create(root: string, mailboxName: string, keywords: readonly string[]): Promise<MaildirFolderWriter> {
    const isInbox = mailboxName === 'INBOX';
    const directory = isInbox ? root : path.join(root, folderDirectoryName(mailboxName));
    for (const subdirectory of ['tmp', 'new', 'cur']) await fs.mkdir(path.join(directory, subdirectory), { recursive: true });
    // Maildir++: the marker that tells a delivery agent this is a folder, not a root.
    if (!isInbox) await writeDurably(path.join(directory, 'tmp', 'maildirfolder'), path.join(directory, 'maildirfolder'), '');
    return new MaildirFolderWriter(directory, keywords);
  }

  async write(bytes: Buffer, message: MaildirMessageToWrite): Promise<void> {
    const letters: string[] = [];
    for (const flag of message.flags) {
      const letter = flagToLetter.get(flag) ?? this.letters.get(flag);
      if (letter !== undefined) letters.push(letter);
    }
    // Maildir requires the info letters in ASCII order.
    const info = letters.sort().join('');
    const base = `${Math.floor(message.internalDate.getTime() / 1000)}.${message.uid}_${message.uidValidity}.postkeep`;
    await writeDurably(path.join(this.directory, 'tmp', base), path.join(this.directory, 'cur', `${base}:2,${info}`), bytes, message.internalDate);
  }

  async close(): Promise<void> {
    if (this.letters.size > 0) {
      const lines = [...this.letters].map(([keyword, letter]) => `${keywordLetters.indexOf(letter)} ${keyword}\n`).join('');
      await writeDurably(path.join(this.directory, 'tmp', keywordsFile), path.join(this.directory, keywordsFile), lines);
    }
    for (const subdirectory of ['tmp', 'new', 'cur']) await syncDirectory(path.join(this.directory, subdirectory));
    await syncDirectory(this.directory);
  }
}
