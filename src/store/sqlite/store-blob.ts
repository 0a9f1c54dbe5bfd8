// The first half of every append and delivery: stream the bytes into a blob file
// (hashing and parsing the MIME structure on the way), then let the caller record
// it. If recording fails, a blob file that this write created and nothing references
// is removed again (one that was there before, e.g. an orphan, is left for audit).
import { InvalidInput } from '../../errors.js';
import { createStructureParser, type MessageStructure } from '../../mime/structure.js';
import type { WrittenBlob } from '../blobs/file-blob-store.js';
import type { MessageSource } from '../types.js';
import type { StoreContext } from './context.js';

export interface StoredBlob extends WrittenBlob {
  structure: MessageStructure;
}

export async function storeBlob<T>(context: StoreContext, source: MessageSource, maxSize: number | undefined, record: (blob: StoredBlob) => Promise<T>): Promise<T> {
  const parser = createStructureParser();
  const written = await context.blobs.write(source, (chunk) => parser.write(chunk), maxSize);
  context.holdBlob(written.hash);
  try {
    return await record({ ...written, structure: await parser.finish() });
  } catch (error) {
    // Another writer of the same bytes may still need the file; and a file that was there
    // before this write (records lost, blob.orphan in audit) may be the only copy of that mail.
    if ((context.blobsInFlight.get(written.hash) ?? 0) <= 1 && !context.ledger.sql('SELECT 1 FROM blobs WHERE hash = ?').get(written.hash)) {
      await context.blobs.discard(written);
    }
    throw error;
  } finally {
    context.releaseBlob(written.hash);
  }
}

/** INTERNALDATE in milliseconds: now when absent, refused when not a real date. */
export function checkedDate(date: Date | undefined): number {
  const milliseconds = (date ?? new Date()).getTime();
  if (!Number.isFinite(milliseconds)) throw new InvalidInput('the internal date is not a valid date');
  return milliseconds;
}
