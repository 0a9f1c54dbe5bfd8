// The anchor: the latest sequence number and hash, kept in a small file beside the
// database. The chain alone cannot show that entries were cut off its end (what is
// left is still a valid chain); comparing with the anchor can, unless whoever cut
// them also rewrote this file. It raises the bar; it is not a signature.
//
// A cut must stay visible: new entries fill the sequence numbers again, and an anchor
// that simply moved on to them would make the chain look whole ("heal"). So before
// the anchor moves, the entry it records must still be there with its hash; if it is
// not, it is kept in the file as a lost anchor, which `log verify` reports for as long
// as the chain does not hold that entry again.
//
// The file: the anchor on the first line, `<sequence> <hash>`, then one line per lost
// anchor, `lost <sequence> <hash> <when it was noticed, ISO 8601>`.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

export const anchorFileName = 'security-log.anchor';

export interface Anchor {
  sequence: number;
  hash: string;
}

export interface LostAnchor extends Anchor {
  /** When a writer found the entry gone or changed. */
  noticedAt: string;
}

export interface AnchorRecord {
  anchor: Anchor;
  lost: LostAnchor[];
}

/** Lost anchors kept at most: each is a separate cut; beyond this the oldest go. */
const maxLostAnchors = 100;

export function anchorFile(dataDir: string): string {
  return path.join(dataDir, anchorFileName);
}

/** The anchor and the lost anchors, null when the file does not exist; throws on a file that is not an anchor. */
export async function readAnchorRecord(file: string): Promise<AnchorRecord | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const [first = '', ...rest] = text.replace(/\n$/, '').split('\n');
  const match = /^(\d+) ([0-9a-f]{64})$/.exec(first);
  if (!match) throw new Error(`${file} is not a security log anchor`);
  const lost: LostAnchor[] = [];
  for (const line of rest) {
    const lostMatch = /^lost (\d+) ([0-9a-f]{64}) (\S+)$/.exec(line);
    if (!lostMatch) throw new Error(`${file} is not a security log anchor (line ${JSON.stringify(line.slice(0, 80))})`);
    lost.push({ sequence: Number(lostMatch[1]), hash: lostMatch[2]!, noticedAt: lostMatch[3]! });
  }
  return { anchor: { sequence: Number(match[1]), hash: match[2]! }, lost };
}

/** The anchor, null when the file does not exist; throws on a file that is not an anchor. */
export async function readAnchor(file: string): Promise<Anchor | null> {
  return (await readAnchorRecord(file))?.anchor ?? null;
}

/** Looks up the entry at a sequence number in the log as it is now. */
export type EntryAt = (sequence: number) => Promise<{ hash: string } | null>;

/**
 * Moves the anchor forward (never back: another process may have written a newer
 * one), after checking that the entry the current anchor records is still there;
 * if it is not, that anchor is kept as lost and returned. Written to a temporary
 * file, fsynced and renamed, so a crash leaves the old anchor or the new one.
 */
export async function advanceAnchor(file: string, anchor: Anchor, entryAt?: EntryAt): Promise<LostAnchor | null> {
  const current = await readAnchorRecord(file).catch(() => null);
  let lost = current?.lost ?? [];
  let newlyLost: LostAnchor | null = null;
  if (current && entryAt) {
    const entry = await entryAt(current.anchor.sequence);
    if (entry === null || entry.hash !== current.anchor.hash) {
      newlyLost = { ...current.anchor, noticedAt: new Date().toISOString() };
      if (!lost.some((item) => item.sequence === newlyLost!.sequence && item.hash === newlyLost!.hash)) lost = [...lost, newlyLost].slice(-maxLostAnchors);
    }
  }
  if (!newlyLost && current && current.anchor.sequence >= anchor.sequence) return null;
  await writeAnchorRecord(file, { anchor, lost });
  return newlyLost;
}

export async function writeAnchorRecord(file: string, record: AnchorRecord): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await fs.open(temporary, 'w', 0o600);
  try {
    const lines = [`${record.anchor.sequence} ${record.anchor.hash}`, ...record.lost.map((item) => `lost ${item.sequence} ${item.hash} ${item.noticedAt}`)];
    await handle.writeFile(lines.join('\n') + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, file);
}

/**
 * Copies an anchor file (a backup takes the data folder's, a restore puts it in the
 * new folder), durably; nothing when there is none. Read the source before the
 * database snapshot, so the anchor never records an entry the snapshot lacks.
 */
export async function copyAnchor(from: string, to: string): Promise<boolean> {
  const record = await readAnchorRecord(from);
  if (record === null) return false;
  await writeAnchorRecord(to, record);
  return true;
}
