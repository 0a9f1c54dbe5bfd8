// Splits the bytes a client sends into commands: lines plus the literals they announce
// (RFC 9051 §4.3, §7.5). Pure: chunks in, events out; the caller owns the socket.
//
// Choices, documented once here:
// - A line ends at LF; one CR right before it is dropped. A bare LF is accepted because
//   real clients and test scripts send it; a CR elsewhere is left in and the parser
//   rejects it (CTL is not allowed in any token).
// - Literals are held in one Buffer each (copied once out of the socket chunks, never
//   twice) — except APPEND literals larger than `streamThreshold` or that would push the
//   command past `commandLimit`: those are handed out as `literal-data` events (slices of
//   the pushed chunks, no copy) between `literal-start` and `literal-end`, and the
//   finished command carries a `StreamedLiteral` marker in their place. Memory held per
//   connection is therefore at most `commandLimit` plus one line.
// - A synchronizing literal is accepted by default: the reader emits `continuation` and
//   the caller sends `+ ...` (RFC 9051 §7.5). One that breaks a limit is refused: the
//   reader emits `error` and expects the client's next command at once, since the client
//   does not send a literal it was not invited to send.
// - A non-synchronizing literal (`{n+}`, RFC 7888) is sent whether we like it or not: a
//   refused one is read and thrown away (never buffered) so that message bytes are never
//   taken for commands, then the rest of the command is skipped.
// - RFC 7888 has no `{n-}` syntax: LITERAL- is a capability that limits `{n+}` to 4096
//   bytes, set here with `nonSynchronizingLimit`.
// - With `confirmAppendLiterals`, an APPEND literal that passes these limits is offered
//   to the caller (`literal-offer`) before any continuation or byte of it: the caller
//   checks what the reader cannot see (the account's quota, room in the spool) and
//   calls decide(). Until then the reader holds whatever else arrives unread (the
//   caller stops reading the socket meanwhile). A refused synchronizing literal was
//   never invited, so the next line is a new command; a refused `{n+}` one is read and
//   thrown away as above (RFC 7888 §4: the server must reject it, the bytes still come).
import { ParseError } from './parse-error.js';

export interface CommandReaderLimits {
  /** Longest line, CRLF excluded (default 64 KiB). */
  lineLimit: number;
  /** Largest literal outside APPEND (default 64 KiB). */
  literalLimit: number;
  /** Largest APPEND message literal: the APPENDLIMIT (RFC 7889; default 64 MiB). */
  appendLimit: number;
  /** Most bytes of lines and buffered literals held for one command (default 1 MiB). */
  commandLimit: number;
  /** APPEND literals larger than this are streamed (default 64 KiB). */
  streamThreshold: number;
  /** Largest `{n+}` literal: Infinity with LITERAL+, 4096 with LITERAL- (RFC 7888 §4). */
  nonSynchronizingLimit: number;
}

export const defaultLimits: CommandReaderLimits = {
  lineLimit: 64 * 1024,
  literalLimit: 64 * 1024,
  appendLimit: 64 * 1024 * 1024,
  commandLimit: 1024 * 1024,
  streamThreshold: 64 * 1024,
  nonSynchronizingLimit: Infinity,
};

export interface BufferedLiteral {
  kind: 'buffered';
  bytes: Buffer;
  /** `~{n}` literal8 (RFC 3516 §4.2): may contain NUL. */
  binary: boolean;
}

export interface StreamedLiteralMarker {
  kind: 'streamed';
  index: number;
  size: number;
  binary: boolean;
}

export type FrameLiteral = BufferedLiteral | StreamedLiteralMarker;

export interface CommandReaderOptions {
  /** Offer each APPEND literal to the caller before reading it (see the notes at the top). */
  confirmAppendLiterals?: boolean;
}

/** An APPEND literal waiting for the caller's decide(). */
export interface LiteralOffer {
  tag: string | null;
  index: number;
  size: number;
  binary: boolean;
  /** `{n}`: nothing of it comes until the continuation is sent. */
  synchronizing: boolean;
  /** It would be handed out as `literal-data` (to go to disk), not held in memory. */
  streamed: boolean;
  /** Names this offer in decide(), so that a decision that comes after a reset() is ignored. */
  serial: number;
}

/** One complete command as it came off the wire: line i ends with the announcement of literal i. */
export interface CommandFrame {
  /** The tag as far as the reader could see it (the parser checks it properly). */
  tag: string | null;
  lines: Buffer[];
  literals: FrameLiteral[];
}

export type ReaderEvent =
  | { type: 'command'; frame: CommandFrame }
  /** Send a continuation request (`+ Ready`) now: the client waits for it before sending `size` bytes. */
  | { type: 'continuation'; tag: string | null; size: number }
  | { type: 'literal-start'; tag: string | null; index: number; size: number; binary: boolean }
  | { type: 'literal-data'; index: number; data: Buffer }
  | { type: 'literal-end'; index: number }
  /** Only with `confirmAppendLiterals`: call decide(offer.serial, …) to go on. */
  | { type: 'literal-offer'; offer: LiteralOffer }
  /** Answer it (BAD, or NO [TOOBIG]); the reader has already resynchronized. Drop any streamed literal of this command. */
  | { type: 'error'; error: ParseError };

// `{n}`, `{n+}`, `~{n}` at the end of a line; a number longer than 16 digits is refused below.
const announcementPattern = /(~?)\{([0-9]{1,20})(\+?)\}$/;
const tailKeep = 32;
const LF = 0x0a;
const CR = 0x0d;

type Mode =
  | { kind: 'line' }
  | { kind: 'skip' }
  | { kind: 'literal'; remaining: number; target: 'buffer' | 'stream' | 'discard'; buffer: Buffer | null; index: number }
  | { kind: 'held'; offer: LiteralOffer };

export class CommandReader {
  readonly limits: CommandReaderLimits;
  private mode: Mode = { kind: 'line' };
  // The line being read: chunks and their total length.
  private pending: Buffer[] = [];
  private pendingLength = 0;
  // The last bytes of a line being skipped, to see a literal announcement at its end.
  private tail = '';
  // The command being assembled.
  private lines: Buffer[] = [];
  private literals: FrameLiteral[] = [];
  private held = 0;
  private tag: string | null = null;
  private isAppend = false;
  private failed = false;
  private events: ReaderEvent[] = [];
  private readonly confirmAppendLiterals: boolean;
  // Bytes that arrived while an offer waits for decide(), in order.
  private deferred: Buffer[] = [];
  private deferredLength = 0;
  private offers = 0;

  constructor(limits: Partial<CommandReaderLimits> = {}, options: CommandReaderOptions = {}) {
    this.limits = { ...defaultLimits, ...limits };
    this.confirmAppendLiterals = options.confirmAppendLiterals ?? false;
  }

  /** Forget everything buffered, e.g. after STARTTLS or COMPRESS (bytes sent before the switch must not be run). */
  reset(): void {
    this.mode = { kind: 'line' };
    this.pending = [];
    this.pendingLength = 0;
    this.tail = '';
    this.deferred = [];
    this.deferredLength = 0;
    this.startCommand();
  }

  /** Bytes held for the command in progress (for tests and memory accounting). */
  get heldBytes(): number {
    return this.held + this.pendingLength + this.deferredLength;
  }

  /** The APPEND literal waiting for decide(), if any: feed nothing more until it is decided. */
  get pendingOffer(): LiteralOffer | null {
    return this.mode.kind === 'held' ? this.mode.offer : null;
  }

  /**
   * Bytes still to come of the literal being read (0 between literals). No command ends
   * inside them, so a caller that meters how many commands it lets in may hand them over whole.
   */
  get literalRemaining(): number {
    return this.mode.kind === 'literal' ? this.mode.remaining : 0;
  }

  push(chunk: Buffer): ReaderEvent[] {
    this.events = [];
    this.consume(chunk);
    return this.takeEvents();
  }

  /**
   * Goes on after a `literal-offer`: null admits the literal (a synchronizing one gets
   * its `continuation` now), an error refuses it. Returns the events of the bytes that
   * were held meanwhile. A decision for an offer that is no longer waiting (the reader
   * was reset since) does nothing.
   */
  decide(serial: number, refusal: ParseError | null): ReaderEvent[] {
    const mode = this.mode;
    if (mode.kind !== 'held' || mode.offer.serial !== serial) return [];
    this.events = [];
    const { offer } = mode;
    if (refusal) {
      this.fail(refusal);
      if (offer.synchronizing) this.startCommand();
      this.mode = offer.synchronizing ? { kind: 'line' } : { kind: 'literal', remaining: offer.size, target: 'discard', buffer: null, index: -1 };
    } else {
      this.openLiteral(offer.index, offer.size, offer.binary, offer.synchronizing, offer.streamed);
    }
    const deferred = this.deferred;
    this.deferred = [];
    this.deferredLength = 0;
    // A later offer in these bytes holds the rest again (consume defers while held).
    for (const chunk of deferred) this.consume(chunk);
    this.finishEmptyLiteral();
    return this.takeEvents();
  }

  private consume(chunk: Buffer): void {
    let position = 0;
    while (position < chunk.length) {
      const mode = this.mode;
      if (mode.kind === 'held') {
        const rest = chunk.subarray(position);
        // A copy, so that the held bytes do not keep a larger socket chunk alive.
        this.deferred.push(Buffer.from(rest));
        this.deferredLength += rest.length;
        return;
      }
      if (mode.kind === 'literal') position = this.readLiteral(mode, chunk, position);
      else if (mode.kind === 'line') position = this.readLine(chunk, position);
      else position = this.skipLine(chunk, position);
    }
    this.finishEmptyLiteral();
  }

  // A zero-length literal at the very end of a chunk is complete without more bytes.
  private finishEmptyLiteral(): void {
    if (this.mode.kind === 'literal' && this.mode.remaining === 0) this.finishLiteral(this.mode);
  }

  private takeEvents(): ReaderEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  private startCommand(): void {
    this.lines = [];
    this.literals = [];
    this.held = 0;
    this.tag = null;
    this.isAppend = false;
    this.failed = false;
  }

  private readLine(chunk: Buffer, position: number): number {
    const newline = chunk.indexOf(LF, position);
    const end = newline < 0 ? chunk.length : newline;
    const length = end - position;
    // The CR of a CRLF may be the one byte past the limit.
    const last = length > 0 ? chunk[end - 1] : this.pending.at(-1)?.at(-1);
    const allowance = last === CR ? 1 : 0;
    if (this.pendingLength + length > this.limits.lineLimit + allowance) {
      const before = Buffer.concat(this.pending);
      if (this.lines.length === 0) this.peekCommand(Buffer.concat([before, chunk.subarray(position, Math.min(end, position + 200))]));
      this.pending = [];
      this.pendingLength = 0;
      this.fail(new ParseError('line-too-long', `command line longer than ${this.limits.lineLimit} bytes`));
      this.mode = { kind: 'skip' };
      // The end of the line (and a literal announcement there) may straddle the chunks.
      this.tail = before.toString('latin1', Math.max(0, before.length - tailKeep));
      return position; // re-read this chunk's part of the line in skip mode
    }
    if (newline < 0) {
      // A copy, so that a few bytes of a line never keep a whole socket chunk alive.
      this.pending.push(Buffer.from(chunk.subarray(position)));
      this.pendingLength += length;
      return chunk.length;
    }
    this.pending.push(chunk.subarray(position, end));
    let line = this.pending.length === 1 ? Buffer.from(this.pending[0]!) : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingLength = 0;
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    this.completeLine(line);
    return newline + 1;
  }

  private skipLine(chunk: Buffer, position: number): number {
    const newline = chunk.indexOf(LF, position);
    const end = newline < 0 ? chunk.length : newline;
    this.tail = (this.tail + chunk.toString('latin1', Math.max(position, end - tailKeep), end)).slice(-tailKeep);
    if (newline < 0) return chunk.length;
    const text = this.tail.endsWith('\r') ? this.tail.slice(0, -1) : this.tail;
    this.tail = '';
    this.mode = { kind: 'line' };
    this.afterFailedLine(text);
    return newline + 1;
  }

  // The rest of a refused command: only a non-synchronizing literal keeps it going.
  private afterFailedLine(text: string): void {
    const match = announcementPattern.exec(text);
    if (match && match[3] === '+') {
      this.mode = { kind: 'literal', remaining: Number(match[2]), target: 'discard', buffer: null, index: -1 };
      return;
    }
    this.startCommand();
  }

  private completeLine(line: Buffer): void {
    if (this.lines.length === 0 && this.literals.length === 0) this.peekCommand(line);
    if (this.failed) {
      this.afterFailedLine(line.toString('latin1', Math.max(0, line.length - tailKeep)));
      return;
    }
    this.held += line.length;
    this.lines.push(line);
    const lineEnd = line.toString('latin1', Math.max(0, line.length - tailKeep));
    if (this.held > this.limits.commandLimit) {
      this.fail(new ParseError('command-too-large', `command longer than ${this.limits.commandLimit} bytes`));
      this.afterFailedLine(lineEnd);
      return;
    }
    const match = announcementPattern.exec(lineEnd);
    if (!match) {
      this.events.push({ type: 'command', frame: { tag: this.tag, lines: this.lines, literals: this.literals } });
      this.startCommand();
      return;
    }
    const binary = match[1] === '~';
    const synchronizing = match[3] !== '+';
    const digits = match[2]!;
    const size = digits.length > 16 ? Infinity : Number(digits);
    const index = this.literals.length;
    const refusal = this.refuseLiteral(size, synchronizing);
    if (refusal) {
      this.fail(refusal);
      if (synchronizing) this.startCommand();
      else this.mode = { kind: 'literal', remaining: size, target: 'discard', buffer: null, index: -1 };
      return;
    }
    const stream = this.isAppend && (size > this.limits.streamThreshold || this.held + size > this.limits.commandLimit);
    if (this.isAppend && this.confirmAppendLiterals) {
      const offer: LiteralOffer = { tag: this.tag, index, size, binary, synchronizing, streamed: stream, serial: ++this.offers };
      this.mode = { kind: 'held', offer };
      this.events.push({ type: 'literal-offer', offer });
      return;
    }
    this.openLiteral(index, size, binary, synchronizing, stream);
  }

  private openLiteral(index: number, size: number, binary: boolean, synchronizing: boolean, stream: boolean): void {
    if (synchronizing) this.events.push({ type: 'continuation', tag: this.tag, size });
    if (stream) {
      this.literals.push({ kind: 'streamed', index, size, binary });
      this.events.push({ type: 'literal-start', tag: this.tag, index, size, binary });
      this.mode = { kind: 'literal', remaining: size, target: 'stream', buffer: null, index };
    } else {
      this.held += size;
      const buffer = Buffer.allocUnsafe(size);
      this.literals.push({ kind: 'buffered', bytes: buffer, binary });
      this.mode = { kind: 'literal', remaining: size, target: 'buffer', buffer, index };
    }
  }

  private refuseLiteral(size: number, synchronizing: boolean): ParseError | null {
    if (!Number.isSafeInteger(size)) {
      return new ParseError('literal-too-large', 'literal size is not a number this server accepts', { responseCode: 'TOOBIG' });
    }
    if (!synchronizing && size > this.limits.nonSynchronizingLimit) {
      // RFC 7888 §4: LITERAL- allows at most 4096 bytes without a continuation.
      return new ParseError('literal-too-large', `non-synchronizing literals are limited to ${this.limits.nonSynchronizingLimit} bytes`, {
        responseCode: 'TOOBIG',
      });
    }
    if (this.isAppend) {
      // RFC 7889 §4 / RFC 9051 §7.1: a message over APPENDLIMIT gets NO [TOOBIG].
      if (size > this.limits.appendLimit) {
        return new ParseError('literal-too-large', `message larger than the limit of ${this.limits.appendLimit} bytes`, {
          status: 'NO',
          responseCode: 'TOOBIG',
        });
      }
      return null;
    }
    if (size > this.limits.literalLimit) {
      return new ParseError('literal-too-large', `literal larger than ${this.limits.literalLimit} bytes`, { responseCode: 'TOOBIG' });
    }
    if (this.held + size > this.limits.commandLimit) {
      return new ParseError('command-too-large', `command longer than ${this.limits.commandLimit} bytes`, { responseCode: 'TOOBIG' });
    }
    return null;
  }

  private readLiteral(mode: Extract<Mode, { kind: 'literal' }>, chunk: Buffer, position: number): number {
    const take = Math.min(mode.remaining, chunk.length - position);
    if (take > 0) {
      const size = mode.buffer ? mode.buffer.length : 0;
      if (mode.target === 'buffer') chunk.copy(mode.buffer!, size - mode.remaining, position, position + take);
      else if (mode.target === 'stream') this.events.push({ type: 'literal-data', index: mode.index, data: chunk.subarray(position, position + take) });
      mode.remaining -= take;
    }
    if (mode.remaining === 0) this.finishLiteral(mode);
    return position + take;
  }

  private finishLiteral(mode: Extract<Mode, { kind: 'literal' }>): void {
    if (mode.target === 'stream') this.events.push({ type: 'literal-end', index: mode.index });
    // After a literal the command line goes on (RFC 9051 §4.3); a refused command's is skipped.
    this.mode = mode.target === 'discard' || this.failed ? { kind: 'skip' } : { kind: 'line' };
    this.tail = '';
  }

  private fail(error: ParseError): void {
    error.tag = this.tag;
    this.failed = true;
    this.events.push({ type: 'error', error });
  }

  // The tag and whether this is APPEND, so the right literal limit applies before the line is parsed.
  private peekCommand(line: Buffer): void {
    const text = line.toString('latin1', 0, Math.min(line.length, 200));
    const words = text.split(' ', 3);
    const tag = words[0] ?? '';
    this.tag = /^[\x21-\x7e]{1,64}$/.test(tag) && !/[(){%*"\\+]/.test(tag) ? tag : null;
    this.isAppend = (words[1] ?? '').replace(/\{.*$/, '').toUpperCase() === 'APPEND';
  }
}
