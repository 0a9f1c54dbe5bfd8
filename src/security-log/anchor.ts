// The anchor: the latest sequence number and hash, kept in a small file beside the
// database. The chain alone cannot show that entries were cut off its end (what is
// left is still a valid chain); comparing with the anchor can, unless whoever cut
// them also rewrote this file. It raises the bar; it is not a signature.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

export const anchorFileName = 'security-log.anchor';

export interface Anchor {
  sequence: number;
  hash: string;
}

export function anchorFile(dataDir: string): string {
  return path.join(dataDir, anchorFileName);
}

/** The anchor, null when the file does not exist; throws on a file that is not an anchor. */
export async function readAnchor(file: string): Promise<Anchor | null> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const match = /^(\d+) ([0-9a-f]{64})\n?$/.exec(text);
  if (!match) throw new Error(`${file} is not a security log anchor`);
  return { sequence: Number(match[1]), hash: match[2]! };
}

/**
 * Moves the anchor forward (never back: another process may have written a newer
 * one). Written to a temporary file, fsynced and renamed, so a crash leaves the old
 * anchor or the new one, never half of one.
 */
export async function advanceAnchor(file: string, anchor: Anchor): Promise<void> {
  const current = await readAnchor(file).catch(() => null);
  if (current && current.sequence >= anchor.sequence) return;
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await fs.open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(`${anchor.sequence} ${anchor.hash}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, file);
}
