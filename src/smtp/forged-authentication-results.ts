// RFC 8601 §5: an Authentication-Results field that arrives from outside with our
// own authserv-id is forged (only we may write one) and must go before ours is
// added. It goes byte-exactly: the field and its continuation lines are cut out
// of the received bytes and every other byte stays as it came, so nothing else
// of an acknowledged message can be lost by the removal.
//
// Lines are read as broadly as any reader might read them, so that no reader
// finds a forged field that survived: a line ends at LF, CRLF or a bare CR
// (Python's email package splits at a bare CR; the store's MIME parser does
// not), and the header section ends where the store's parser ends it (the first
// empty line terminated by LF; header-section.ts). A forged field that only a
// bare CR delimits cannot be cut so that every reader still sees the same other
// lines, so it is reported (hiddenByBareCarriageReturn) for the caller to refuse.

export interface ByteRange {
  start: number;
  /** Exclusive. */
  end: number;
}

export interface ForgedFields {
  /** The forged fields, each from its first byte through its last line's LF, in order. */
  ranges: ByteRange[];
  /** A forged field starts after, or holds, a bare CR (RFC 5322 §2.2 allows CR only in CRLF). */
  hiddenByBareCarriageReturn: boolean;
}

/** Bytes of one field kept for reading its authserv-id; a longer field is judged on what was kept. */
export const FIELD_KEEP = 64 * 1024;

const FIELD_NAME = 'authentication-results';
// RFC 2045 §5.1 tspecials, which end a token (the authserv-id is a "value", RFC 8601 §2.2).
const TOKEN_END = new Set(' \t()<>@,;:\\"/[]?='.split(''));

type AuthservId = { kind: 'id'; id: string } | { kind: 'unreadable' };

/** RFC 8601 §2.2: authres-payload = [CFWS] authserv-id ...; the value after the colon, unfolded. */
export function authservIdOf(value: string, complete = true): AuthservId {
  let position = 0;
  const length = value.length;
  // [CFWS], comments nested, with quoted-pairs (RFC 5322 §3.2.2).
  for (;;) {
    while (position < length && (value[position] === ' ' || value[position] === '\t')) position++;
    if (value[position] !== '(') break;
    let depth = 0;
    for (; position < length; position++) {
      const character = value[position];
      if (character === '\\') position++;
      else if (character === '(') depth++;
      else if (character === ')' && --depth === 0) break;
    }
    if (position >= length) return { kind: 'unreadable' };
    position++;
  }
  if (value[position] === '"') {
    let id = '';
    for (position++; position < length; position++) {
      const character = value[position]!;
      if (character === '"') return { kind: 'id', id };
      if (character === '\\') position++;
      if (position < length) id += value[position];
    }
    return { kind: 'unreadable' };
  }
  const start = position;
  while (position < length && !TOKEN_END.has(value[position]!) && value.charCodeAt(position) > 0x20 && value.charCodeAt(position) !== 0x7f) position++;
  // A token cut off by the end of what was kept may go on.
  if (position === start || (position === length && !complete)) return { kind: 'unreadable' };
  return { kind: 'id', id: value.slice(start, position) };
}

function normalised(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Whether an Authentication-Results value claims to come from `hostname`:
 * its authserv-id after CFWS, case-insensitively, a trailing dot ignored. A
 * value whose authserv-id cannot be read counts as ours when it names our host
 * anywhere (an unterminated comment or quote), or when the field was longer than
 * what was kept (a comment of FIELD_KEEP bytes must not hide an authserv-id).
 */
export function claimsHost(value: string, hostname: string, complete = true): boolean {
  const own = normalised(hostname);
  const id = authservIdOf(value, complete);
  if (id.kind === 'id') return normalised(id.id) === own;
  return !complete || value.toLowerCase().includes(own);
}

/**
 * Finds forged Authentication-Results fields in a message's header section,
 * fed chunk by chunk; it holds at most FIELD_KEEP bytes, whatever the input.
 */
export class ForgedFieldScanner {
  readonly ranges: ByteRange[] = [];
  hiddenByBareCarriageReturn = false;
  private offset = 0;
  private ended = false;
  private lineStart = 0;
  private lineFirst = -1; // first byte of the current line, -1 before one arrived
  private pendingCarriageReturn = -1; // offset of a CR whose LF may follow, else -1
  private previousBareCarriageReturn = -1; // offset of the bare CR that ended the previous line, else -1
  private field: { start: number; bareCarriageReturn: boolean; end: number; keptLength: number; continuing: boolean } | null = null;
  /** The open field's leading bytes; one field is open at a time, so one buffer serves them all. */
  private readonly kept = Buffer.allocUnsafe(FIELD_KEEP);

  constructor(private readonly hostname: string) {}

  /** True once the header section has ended: nothing more needs to be pushed. */
  get done(): boolean {
    return this.ended;
  }

  push(chunk: Buffer): void {
    for (let index = 0; index < chunk.length && !this.ended; index++) {
      const byte = chunk[index]!;
      const at = this.offset + index;
      if (this.pendingCarriageReturn >= 0) {
        const carriageReturn = this.pendingCarriageReturn;
        this.pendingCarriageReturn = -1;
        if (byte === 0x0a) {
          this.endLine(carriageReturn, at + 1, false);
          continue;
        }
        this.endLine(carriageReturn, carriageReturn + 1, true);
      }
      if (byte === 0x0d) this.pendingCarriageReturn = at;
      else if (byte === 0x0a) this.endLine(at, at + 1, false);
      else {
        this.contentByte(byte, at);
        // The rest of the line up to its CR or LF needs no decision, only copying into the kept prefix.
        let next = index + 1;
        while (next < chunk.length && chunk[next] !== 0x0a && chunk[next] !== 0x0d) next++;
        const field = this.field;
        if (field !== null && field.continuing && field.keptLength < FIELD_KEEP) {
          field.keptLength += chunk.copy(this.kept, field.keptLength, index + 1, Math.min(next, index + 1 + FIELD_KEEP - field.keptLength));
        }
        index = next - 1;
      }
    }
    this.offset += chunk.length;
  }

  /** The end of the message: whatever line or field is open ends here. */
  finish(): ForgedFields {
    if (!this.ended) {
      if (this.pendingCarriageReturn >= 0) this.endLine(this.pendingCarriageReturn, this.pendingCarriageReturn + 1, true);
      else if (this.lineFirst >= 0) this.endLine(this.offset, this.offset, false);
      this.finishField();
      this.ended = true;
    }
    return { ranges: this.ranges, hiddenByBareCarriageReturn: this.hiddenByBareCarriageReturn };
  }

  private contentByte(byte: number, at: number): void {
    if (this.lineFirst < 0) {
      this.lineFirst = byte;
      if (byte === 0x20 || byte === 0x09) {
        // RFC 5322 §2.2.3: a line starting with WSP continues the field before it.
        if (this.field !== null) this.field.continuing = true;
      } else {
        this.finishField();
        this.field = {
          start: this.lineStart,
          bareCarriageReturn: this.previousBareCarriageReturn >= 0,
          end: at,
          keptLength: 0,
          continuing: true,
        };
      }
    }
    const field = this.field;
    if (field !== null && field.continuing && field.keptLength < FIELD_KEEP) this.kept[field.keptLength++] = byte;
  }

  /** A line ends: its content stops at `contentEnd`, its terminator at `end`. */
  private endLine(contentEnd: number, end: number, bareCarriageReturn: boolean): void {
    const empty = this.lineFirst < 0;
    if (empty) {
      this.finishField();
      // RFC 5322 §2.1: the empty line ends the header section, as src/mime/parser.ts reads it.
      if (!bareCarriageReturn && this.previousBareCarriageReturn < 0) this.ended = true;
    } else if (this.field !== null && this.field.continuing) {
      this.field.end = end;
      if (bareCarriageReturn) this.field.bareCarriageReturn = true;
    }
    if (this.field !== null) this.field.continuing = false;
    this.previousBareCarriageReturn = bareCarriageReturn ? contentEnd : -1;
    this.lineStart = end;
    this.lineFirst = -1;
  }

  private finishField(): void {
    const field = this.field;
    this.field = null;
    if (field === null) return;
    const text = this.kept.toString('latin1', 0, field.keptLength);
    const colon = text.indexOf(':');
    if (colon < 0 || text.slice(0, colon).trim().toLowerCase() !== FIELD_NAME) return;
    const complete = field.keptLength < FIELD_KEEP;
    if (!claimsHost(text.slice(colon + 1), this.hostname, complete)) return;
    // Cut from a line start through an LF: the lines before and after stay the same lines.
    this.ranges.push({ start: field.start, end: field.end });
    if (field.bareCarriageReturn) this.hiddenByBareCarriageReturn = true;
  }
}

/** Reads `chunks` up to the end of the header section and finds the forged fields. */
export async function findForgedAuthenticationResults(chunks: AsyncIterable<Buffer>, hostname: string): Promise<ForgedFields> {
  const scanner = new ForgedFieldScanner(hostname);
  for await (const chunk of chunks) {
    scanner.push(chunk);
    if (scanner.done) break;
  }
  return scanner.finish();
}

/** `chunks` without the bytes in `ranges` (sorted, not overlapping). */
export async function* withoutRanges(chunks: AsyncIterable<Buffer>, ranges: readonly ByteRange[]): AsyncGenerator<Buffer> {
  let offset = 0;
  let next = 0;
  for await (const chunk of chunks) {
    const chunkEnd = offset + chunk.length;
    let position = offset;
    while (position < chunkEnd) {
      while (next < ranges.length && ranges[next]!.end <= position) next++;
      const range = ranges[next];
      if (range === undefined || range.start >= chunkEnd) {
        yield chunk.subarray(position - offset);
        break;
      }
      if (range.start > position) yield chunk.subarray(position - offset, range.start - offset);
      position = Math.min(range.end, chunkEnd);
    }
    offset = chunkEnd;
  }
}
