// The DATA stream, held while it is checked (Received loop count, SPF/DKIM/DMARC,
// the From: of a submission) and before it is stored with new headers on top. Up
// to `memoryLimit` bytes stay in memory; a larger message goes to a temporary file
// as it arrives, so a 10 MB or 50 MB message is never held whole in memory. The
// file needs no fsync: the store writes (and syncs) its own copy. Nothing is kept
// past the message size limit or past the shared spool budget (spool-budget.ts):
// a never-ending DATA costs reading time, never disk.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { headerSectionEnd } from './header-section.js';
import type { SpoolBudget } from './spool-budget.js';

export const defaultMemoryLimit = 1024 * 1024;
/** The header section is looked for in this many leading bytes. */
const headerSearchLimit = 1024 * 1024;

/** A message received whole, or why nothing of it is kept (its size is what was read). */
export type SpoolOutcome = { kind: 'received'; spool: MessageSpool } | { kind: 'oversized' | 'spool_full'; size: number };

export class MessageSpool {
  private constructor(
    private readonly memory: Buffer | null,
    private readonly file: string | null,
    readonly size: number,
    /** The leading bytes (up to 1 MB), for header checks. */
    readonly head: Buffer,
    private readonly budget: SpoolBudget,
    /** What this spool holds of the budget, given back by dispose(). */
    private reserved: number,
  ) {}

  /**
   * Reads the whole DATA stream. Past `maxSize`, or past what the shared budget
   * has room for, nothing more is kept: what was held is dropped at once and the
   * rest is read and discarded, so that smtp-server reaches the final dot and the
   * caller can answer 552 or 452 there (RFC 5321 §4.2.5: the reply comes after
   * the dot), with the connection still usable.
   */
  static async receive(
    stream: Readable,
    options: { directory: string; maxSize: number; budget: SpoolBudget; memoryLimit?: number },
  ): Promise<SpoolOutcome> {
    const { budget, maxSize } = options;
    const memoryLimit = options.memoryLimit ?? defaultMemoryLimit;
    const chunks: Buffer[] = [];
    let size = 0;
    let reserved = 0;
    let refusal: 'oversized' | 'spool_full' | null = null;
    let file: string | null = null;
    let handle: fs.promises.FileHandle | null = null;
    let head: Buffer | null = null;
    const dropHeld = async () => {
      chunks.length = 0;
      head = null;
      if (handle !== null) await handle.close().catch(() => {});
      handle = null;
      if (file !== null) await fs.promises.rm(file, { force: true });
      file = null;
      budget.release(reserved);
      reserved = 0;
    };
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (refusal !== null) continue;
        if (size > maxSize) refusal = 'oversized';
        else if (!budget.reserve(chunk.length)) refusal = 'spool_full';
        if (refusal !== null) {
          await dropHeld();
          continue;
        }
        reserved += chunk.length;
        if (handle === null) {
          chunks.push(chunk);
          if (size > memoryLimit) {
            await fs.promises.mkdir(options.directory, { recursive: true });
            file = path.join(options.directory, `${Date.now()}-${randomBytes(8).toString('hex')}.eml`);
            handle = await fs.promises.open(file, 'wx', 0o600);
            const buffered = Buffer.concat(chunks);
            head = buffered.subarray(0, headerSearchLimit);
            await handle.write(buffered);
            chunks.length = 0;
          }
        } else {
          await handle.write(chunk);
        }
      }
      if (refusal !== null) return { kind: refusal, size };
      if (handle !== null) {
        await (handle as fs.promises.FileHandle).close();
        handle = null;
        return { kind: 'received', spool: new MessageSpool(null, file, size, head!, budget, reserved) };
      }
      const memory = Buffer.concat(chunks);
      return { kind: 'received', spool: new MessageSpool(memory, null, size, memory.subarray(0, headerSearchLimit), budget, reserved) };
    } catch (error) {
      // Drain what is left so smtp-server can still answer the client.
      stream.resume();
      await dropHeld();
      throw error;
    }
  }

  /**
   * Where the header section ends (after its empty line), by the store's MIME parser's rule
   * (header-section.ts: "\n\r\n" ends it too); with no empty line in the leading bytes the
   * header runs on through all of them (RFC 5322 §2.1: the body is optional), as the parser
   * stores it, so that its Received fields are counted.
   */
  get headerEnd(): number {
    return headerSectionEnd(this.head) ?? this.head.length;
  }

  /** The header section as text (latin1 keeps every byte). */
  headerText(): string {
    return this.head.subarray(0, this.headerEnd).toString('latin1');
  }

  /** The bytes from `start`, as a stream of chunks. */
  async *chunks(start = 0): AsyncGenerator<Buffer> {
    if (this.memory !== null) {
      yield this.memory.subarray(start);
      return;
    }
    if (start >= this.size) return;
    yield* fs.createReadStream(this.file!, { start, highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>;
  }

  async dispose(): Promise<void> {
    if (this.file !== null) await fs.promises.rm(this.file, { force: true });
    this.budget.release(this.reserved);
    this.reserved = 0;
  }
}

/** Header fields of a header section, unfolded: name (lower case) and raw value. */
export function headerFields(section: string): { name: string; value: string; raw: string }[] {
  const fields: { name: string; value: string; raw: string }[] = [];
  const lines = section.split(/\r?\n/);
  for (const line of lines) {
    if (line === '') break;
    if (/^[ \t]/.test(line) && fields.length > 0) {
      const last = fields[fields.length - 1]!;
      last.value += ' ' + line.trim();
      last.raw += '\r\n' + line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim(), raw: line });
  }
  return fields;
}
