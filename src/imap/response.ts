// Writing IMAP responses (RFC 9051 §7): string forms, and the one place that maps
// typed errors to tagged NO/BAD replies with response codes (STYLE.md "Errors and
// events have names").
import type { Writable } from 'node:stream';
import { AlreadyExists, IntegrityError, InvalidInput, MessageTooLarge, NotFound, PasswordCheckBusy, PostkeepError, QuotaExceeded, RecordWithheld, StoreUnavailable } from '../errors.js';
import { storageFailure } from '../store/storage-failure.js';
import { encodeModifiedUtf7 } from '../transfer/modified-utf7.js';
import { ParseError } from './parser/index.js';

/** A tagged reply a command handler may throw to end the command at once. */
export class ImapReply extends Error {
  constructor(
    readonly status: 'OK' | 'NO' | 'BAD',
    readonly text: string,
    readonly responseCode: string | null = null,
  ) {
    super(text);
  }
}

/** The byte stream to the client can no longer be trusted (e.g. a literal ended short): the connection must close. */
export class ConnectionBroken extends Error {}

export const no = (text: string, responseCode: string | null = null) => new ImapReply('NO', text, responseCode);
export const bad = (text: string, responseCode: string | null = null) => new ImapReply('BAD', text, responseCode);

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
}

/** The single mapping from a thrown error to `status [code] text` (RFC 9051 §7.1 response codes). */
export function errorToReply(error: unknown): ImapReply {
  if (error instanceof ImapReply) return error;
  if (error instanceof ParseError) return new ImapReply(error.status, error.message, error.responseCode);
  if (error instanceof NotFound) return no(printable(error.message), 'NONEXISTENT');
  if (error instanceof AlreadyExists) return no(printable(error.message), 'ALREADYEXISTS');
  if (error instanceof QuotaExceeded) return no(printable(error.message), 'OVERQUOTA');
  if (error instanceof MessageTooLarge) return no(printable(error.message), 'TOOBIG');
  if (error instanceof InvalidInput) return no(printable(error.message), 'CANNOT');
  // Invariant 2: bytes that fail verification are never served; the client learns it is unavailable.
  if (error instanceof IntegrityError) return no('message is unavailable: its stored copy failed verification', 'UNAVAILABLE');
  if (error instanceof RecordWithheld) return no(`${error.uids.length} message(s) unavailable: the stored record failed verification; nothing was done`, 'UNAVAILABLE');
  // RFC 5530: a subsystem is down (the store refuses writes it cannot make durable).
  if (error instanceof StoreUnavailable) return no('the mail store cannot save changes right now; try again later', 'UNAVAILABLE');
  // RFC 5530 §3 UNAVAILABLE: too many logins are being checked; the credentials were not looked at.
  if (error instanceof PasswordCheckBusy) return no('too many logins at once; try again shortly', 'UNAVAILABLE');
  // RFC 5530 §3: a full disk is a limit of the server's (not the user's quota, OVERQUOTA);
  // a read-only or failing one is a subsystem that is down (UNAVAILABLE). Nothing was stored.
  const failure = storageFailure(error);
  if (failure === 'full') return no('the server has no disk space to store this now; try again later', 'LIMIT');
  if (failure === 'unavailable') return no('the mail store cannot write to its disk right now; try again later', 'UNAVAILABLE');
  if (error instanceof PostkeepError) return no(printable(error.message), 'SERVERBUG');
  return no('internal server error', 'SERVERBUG');
}

export function formatReply(tag: string, reply: ImapReply): string {
  const code = reply.responseCode ? `[${reply.responseCode}] ` : '';
  return `${tag} ${reply.status} ${code}${printable(reply.text) || reply.status}\r\n`;
}

// RFC 9051 §4.3: a quoted string holds any 7-bit char except CR, LF and NUL ("and \ escaped);
// with UTF-8 enabled it may also hold UTF-8.
const quotable = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;
const quotableUtf8 = /^[^\x00\r\n]*$/u;

/** `string`: quoted when it can be, a literal otherwise. */
export function imapString(value: string | Buffer, utf8 = false): string | Buffer {
  const text = typeof value === 'string' ? value : null;
  if (text !== null && text.length < 1024 && (quotable.test(text) || (utf8 && quotableUtf8.test(text)))) {
    return '"' + text.replace(/[\\"]/g, (c) => '\\' + c) + '"';
  }
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`), bytes]);
}

/** `nstring`: NIL for null. */
export function nstring(value: string | null, utf8 = false): string | Buffer {
  return value === null ? 'NIL' : imapString(value, utf8);
}

/** Joins strings and buffers into one Buffer (used for one message's FETCH items). */
export function concat(parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : part)));
}

/** A mailbox name on the wire: UTF-8 once enabled, else modified UTF-7 (RFC 3501 §5.1.3). */
export function mailboxName(name: string, utf8: boolean): string | Buffer {
  return imapString(utf8 ? name : encodeModifiedUtf7(name), utf8);
}

/**
 * Writes replies and holds the caller back while more than `maxUnsentBytes` of them are
 * written but not yet taken by the output (the socket, or the compressor in front of it),
 * so a large FETCH is never held in memory and a client that does not read its replies
 * cannot make the server buffer them (DESIGN.md invariant 7). Bytes are counted per write
 * and uncounted in the write's callback, which every Writable calls once it has passed the
 * bytes on (or failed to): unlike 'drain', that also works below the stream's own highWaterMark.
 */
export class ResponseWriter {
  private unsentBytes = 0;
  private waiters: (() => void)[] = [];
  private released = false;
  /** The most ever unsent at once (the connection logs it when it closes). */
  peakUnsentBytes = 0;

  constructor(
    private readonly output: () => Writable,
    /** Called after each write: COMPRESS=DEFLATE flushes here so every response leaves at once. */
    private readonly afterWrite: () => void = () => {},
    private readonly maxUnsentBytes = 64 * 1024,
    /** Called each time a writer has to wait for the client to read. */
    private readonly onHeld: () => void = () => {},
  ) {}

  /** True while replies may be written (and commands run) without waiting for the client. */
  get hasRoom(): boolean {
    return this.released || this.unsentBytes <= this.maxUnsentBytes;
  }

  /** Resolves when the bytes may be followed by more without growing the buffer without bound. */
  write(data: string | Buffer): Promise<void> {
    const socket = this.output();
    if (this.released || socket.destroyed || socket.writableEnded) return Promise.resolve();
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    this.unsentBytes += size;
    if (this.unsentBytes > this.peakUnsentBytes) this.peakUnsentBytes = this.unsentBytes;
    socket.write(data, () => this.taken(size));
    this.afterWrite();
    return this.room();
  }

  /** Resolves once the unsent replies are back within the bound (at once if they are). */
  room(): Promise<void> {
    if (this.hasRoom) return Promise.resolve();
    this.onHeld();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The connection is gone: nobody waits for room any more, and later writes go nowhere. */
  release(): void {
    this.released = true;
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private taken(size: number): void {
    this.unsentBytes -= size;
    if (this.hasRoom) for (const waiter of this.waiters.splice(0)) waiter();
  }

  untagged(text: string | Buffer): Promise<void> {
    return this.write(typeof text === 'string' ? `* ${text}\r\n` : concat(['* ', text, '\r\n']));
  }

  tagged(tag: string, reply: ImapReply): Promise<void> {
    return this.write(formatReply(tag, reply));
  }
}
