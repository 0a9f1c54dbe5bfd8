// `postkeep log verify`: walks the whole chain and says where it breaks. An edited
// entry no longer matches its own hash; a removed or reordered one breaks the
// sequence or the link to the previous hash; entries cut from the end are caught
// by the anchor file (anchor.ts), and a cut that new entries have since filled in
// again by the lost anchors that file keeps.
import type { StoreAdmin } from '../store/types.js';
import { readAnchorRecord, type Anchor, type LostAnchor } from './anchor.js';
import { entryHash, genesisHash } from './entry-hash.js';

export interface ChainProblem {
  /** The entry where the problem shows. */
  sequence: number;
  problem: string;
}

export interface ChainReport {
  ok: boolean;
  entries: number;
  /** The last entry, which an admin may also note down elsewhere. */
  head: Anchor | null;
  anchor: Anchor | null;
  /** Anchors a writer found gone or changed (see anchor.ts); each is a problem while the chain lacks it. */
  lost: LostAnchor[];
  /** The first problems found (at most `maxProblems`); `problemCount` has them all. */
  problems: ChainProblem[];
  problemCount: number;
}

export async function verifySecurityLog(admin: Pick<StoreAdmin, 'readSecurityLog'>, anchorFile: string, options: { pageSize?: number; maxProblems?: number } = {}): Promise<ChainReport> {
  const pageSize = options.pageSize ?? 2000;
  const maxProblems = options.maxProblems ?? 100;
  const problems: ChainProblem[] = [];
  let problemCount = 0;
  const report = (sequence: number, problem: string) => {
    problemCount++;
    if (problems.length < maxProblems) problems.push({ sequence, problem });
  };
  let anchor: Anchor | null = null;
  let lost: LostAnchor[] = [];
  try {
    const record = await readAnchorRecord(anchorFile);
    anchor = record?.anchor ?? null;
    lost = record?.lost ?? [];
  } catch (error) {
    report(0, String((error as Error).message));
  }
  let entries = 0;
  let previous: { sequence: number; hash: string } = { sequence: 0, hash: genesisHash };
  let hashAtAnchor: string | null = null;
  const lostSequences = new Set(lost.map((item) => item.sequence));
  const hashAtLost = new Map<number, string>();
  for (;;) {
    const page = await admin.readSecurityLog({ afterSequence: previous.sequence, limit: pageSize });
    if (page.length === 0) break;
    for (const entry of page) {
      entries++;
      if (entry.sequence !== previous.sequence + 1) {
        const first = previous.sequence + 1;
        const last = entry.sequence - 1;
        report(entry.sequence, first === last ? `entry ${first} is missing (deleted)` : `entries ${first} to ${last} are missing (deleted)`);
      } else if (entry.previousHash !== previous.hash) {
        report(
          entry.sequence,
          previous.sequence === 0
            ? 'the first entry does not start from the genesis hash (entries before it were removed or it was replaced)'
            : `its previous_hash does not match entry ${previous.sequence}'s hash (an entry was edited, replaced or reordered)`,
        );
      }
      if (entryHash(entry) !== entry.hash) report(entry.sequence, 'its content does not match its hash (the entry was edited or moved)');
      if (anchor && entry.sequence === anchor.sequence) hashAtAnchor = entry.hash;
      if (lostSequences.has(entry.sequence)) hashAtLost.set(entry.sequence, entry.hash);
      previous = { sequence: entry.sequence, hash: entry.hash };
    }
  }
  const head = entries === 0 ? null : previous;
  if (anchor) {
    if (head === null || head.sequence < anchor.sequence) {
      const from = (head?.sequence ?? 0) + 1;
      report(from, `entries ${from} to ${anchor.sequence} are missing from the end (the anchor file records entry ${anchor.sequence})`);
    } else if (hashAtAnchor === null) {
      report(anchor.sequence, `entry ${anchor.sequence}, recorded in the anchor file, is missing`);
    } else if (hashAtAnchor !== anchor.hash) {
      report(anchor.sequence, `entry ${anchor.sequence} does not match the hash in the anchor file (the log was rewritten)`);
    }
  }
  for (const item of lost) {
    // Back again with its hash means the cut was undone (the right database restored).
    if (hashAtLost.get(item.sequence) === item.hash) continue;
    report(
      item.sequence,
      `entry ${item.sequence} (hash ${item.hash}), once recorded in the anchor file, was found ${hashAtLost.has(item.sequence) ? 'replaced' : 'gone'} on ${item.noticedAt}: ` +
        'entries were cut from the log (or a backup older than the log was restored in place) and later entries took their numbers',
    );
  }
  if (!anchor && head !== null && problemCount === 0) {
    report(head.sequence, `the anchor file ${anchorFile} is missing, so entries cut from the end cannot be ruled out`);
  }
  return { ok: problemCount === 0, entries, head, anchor, lost, problems, problemCount };
}
