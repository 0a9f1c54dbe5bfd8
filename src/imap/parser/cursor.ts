// Reads the tokens of RFC 9051 §9 from a command frame: the lines and the literals
// between them, without joining them into one buffer. Every failure is a ParseError.
import type { CommandFrame, FrameLiteral } from './command-reader.js';
import { ParseError } from './parse-error.js';

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

// RFC 9051 §9: atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials
const atomSpecial = new Uint8Array(256);
for (let byte = 0; byte < 256; byte++) {
  if (byte <= 0x20 || byte >= 0x7f) atomSpecial[byte] = 1;
}
for (const character of '(){%*"\\]') atomSpecial[character.charCodeAt(0)] = 1;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function isAtomChar(byte: number): boolean {
  return atomSpecial[byte] === 0;
}

export function syntaxError(message: string): ParseError {
  return new ParseError('syntax', message);
}

export function decodeUtf8(bytes: Uint8Array, what: string): string {
  let ascii = true;
  for (let index = 0; index < bytes.length; index++) {
    if (bytes[index]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  try {
    return utf8.decode(bytes);
  } catch {
    throw syntaxError(`${what} is not valid UTF-8`);
  }
}

export class Cursor {
  private lineIndex = 0;
  private line: Buffer;
  offset = 0;

  constructor(private readonly frame: CommandFrame) {
    this.line = frame.lines[0] ?? Buffer.alloc(0);
  }

  peek(): number {
    return this.offset < this.line.length ? this.line[this.offset]! : -1;
  }

  /** At the end of the whole command. */
  atEnd(): boolean {
    return this.offset >= this.line.length && this.lineIndex >= this.frame.lines.length - 1;
  }

  end(): void {
    if (!this.atEnd()) throw syntaxError(`unexpected ${this.describe()} at the end of the command`);
  }

  /** What the cursor is at, for an error message. */
  describe(): string {
    if (this.offset >= this.line.length) return this.lineIndex < this.frame.lines.length - 1 ? 'literal' : 'end of line';
    const rest = this.line.toString('latin1', this.offset, Math.min(this.line.length, this.offset + 20)).replace(/[^\x20-\x7e]/g, '?');
    return `"${rest}"`;
  }

  is(byte: number): boolean {
    return this.peek() === byte;
  }

  take(byte: number): boolean {
    if (this.peek() !== byte) return false;
    this.offset++;
    return true;
  }

  expect(character: string): void {
    if (!this.take(character.charCodeAt(0))) throw syntaxError(`expected "${character}" instead of ${this.describe()}`);
  }

  space(): void {
    if (!this.take(SP)) throw syntaxError(`expected a space instead of ${this.describe()}`);
  }

  trySpace(): boolean {
    return this.take(SP);
  }

  /** Case-insensitive: consumes `word` when it comes next and is not followed by more atom characters. */
  takeWord(word: string): boolean {
    const end = this.offset + word.length;
    if (end > this.line.length) return false;
    for (let index = 0; index < word.length; index++) {
      const byte = this.line[this.offset + index]!;
      const lower = byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte;
      if (lower !== word.charCodeAt(index)) return false;
    }
    if (end < this.line.length && isAtomChar(this.line[end]!) && this.line[end] !== 0x5b) return false;
    this.offset = end;
    return true;
  }

  /** Bytes while `accept` holds, as latin1 text (all callers accept only ASCII). */
  run(accept: (byte: number) => boolean): string {
    const start = this.offset;
    while (this.offset < this.line.length && accept(this.line[this.offset]!)) this.offset++;
    return this.line.toString('latin1', start, this.offset);
  }

  atom(what = 'atom'): string {
    const text = this.run(isAtomChar);
    if (text === '') throw syntaxError(`expected ${what} instead of ${this.describe()}`);
    return text;
  }

  /** An atom up-cased, for keywords; stops at `[` and `<` too so that `BODY[` and `BODY.PEEK[` split. */
  keyword(what = 'keyword'): string {
    const text = this.run((byte) => isAtomChar(byte) && byte !== 0x5b && byte !== 0x3c);
    if (text === '') throw syntaxError(`expected ${what} instead of ${this.describe()}`);
    return text.toUpperCase();
  }

  /** RFC 9051 number: 0..4294967295 (`nz` rejects 0). */
  number(what = 'number', nz = false): number {
    const text = this.digits(what);
    const value = text.length > 10 ? Infinity : Number(text);
    if (value > 0xffffffff || (nz && value === 0)) throw syntaxError(`${what} out of range`);
    return value;
  }

  /**
   * number64 and mod-sequence-value: up to 2^63-1 on the wire, saturated at 2^53-1 here.
   * The store's sizes and MODSEQs are far below 2^53, so every comparison a command makes
   * (CHANGEDSINCE, UNCHANGEDSINCE, SEARCH MODSEQ and LARGER, partial offsets) keeps its result.
   */
  number64(what = 'number'): number {
    const text = this.digits(what);
    if (text.length <= 15) return Number(text);
    if (text.length > 19 || BigInt(text) > 0x7fffffffffffffffn) throw syntaxError(`${what} too large`);
    return Math.min(Number(text), Number.MAX_SAFE_INTEGER);
  }

  // The digits without leading zeros ("0" stays).
  private digits(what: string): string {
    const text = this.run((byte) => byte >= 0x30 && byte <= 0x39);
    if (text === '') throw syntaxError(`expected ${what} instead of ${this.describe()}`);
    const trimmed = text.replace(/^0+(?=.)/, '');
    return trimmed;
  }

  /** At `{n}`, `{n+}` or `~{n}` that ends this line and announces the next literal. */
  atLiteral(): boolean {
    const byte = this.peek();
    if (byte !== 0x7b && byte !== 0x7e) return false;
    return this.lineIndex < this.frame.lines.length - 1 && /^~?\{[0-9]+\+?\}$/.test(this.line.toString('latin1', this.offset));
  }

  /** Consumes a literal; literal8 only where the grammar allows it. */
  literal(allowBinary: boolean): FrameLiteral {
    if (!this.atLiteral()) throw syntaxError(`expected a literal instead of ${this.describe()}`);
    const binary = this.peek() === 0x7e;
    if (binary && !allowBinary) throw syntaxError('literal8 is only allowed in APPEND');
    const literal = this.frame.literals[this.lineIndex]!;
    this.lineIndex++;
    this.line = this.frame.lines[this.lineIndex]!;
    this.offset = 0;
    return literal;
  }

  /** string = quoted / literal, as bytes. */
  stringBytes(what = 'string'): Buffer {
    if (this.is(DQUOTE)) return this.quoted(what);
    if (this.atLiteral()) {
      const literal = this.literal(false);
      if (literal.kind !== 'buffered') throw syntaxError(`${what} is too large`);
      // RFC 9051 §9: CHAR8 excludes NUL outside literal8.
      if (literal.bytes.includes(0)) throw syntaxError(`${what} contains NUL`);
      return literal.bytes;
    }
    throw syntaxError(`expected ${what} instead of ${this.describe()}`);
  }

  string(what = 'string'): string {
    return decodeUtf8(this.stringBytes(what), what);
  }

  private quoted(what: string): Buffer {
    this.offset++;
    const start = this.offset;
    let escaped: number[] | null = null;
    for (;;) {
      if (this.offset >= this.line.length) throw syntaxError(`unterminated quoted ${what}`);
      const byte = this.line[this.offset]!;
      if (byte === DQUOTE) break;
      if (byte === 0 || byte === 0x0d) throw syntaxError(`${what} contains a control character`);
      if (byte === BACKSLASH) {
        const next = this.line[this.offset + 1];
        // RFC 9051 §9: only quoted-specials may be escaped.
        if (next !== DQUOTE && next !== BACKSLASH) throw syntaxError(`bad escape in quoted ${what}`);
        escaped ??= [...this.line.subarray(start, this.offset)];
        escaped.push(next);
        this.offset += 2;
        continue;
      }
      escaped?.push(byte);
      this.offset++;
    }
    const bytes = escaped ? Buffer.from(escaped) : this.line.subarray(start, this.offset);
    this.offset++;
    return bytes;
  }

  /** astring = 1*ASTRING-CHAR / string */
  astringBytes(what = 'string'): Buffer {
    if (this.is(DQUOTE) || this.atLiteral()) return this.stringBytes(what);
    const start = this.offset;
    while (this.offset < this.line.length && (isAtomChar(this.line[this.offset]!) || this.line[this.offset] === 0x5d)) this.offset++;
    if (this.offset === start) throw syntaxError(`expected ${what} instead of ${this.describe()}`);
    return this.line.subarray(start, this.offset);
  }

  astring(what = 'string'): string {
    return decodeUtf8(this.astringBytes(what), what);
  }

  /** nstring = string / NIL */
  nstring(what = 'string'): string | null {
    if (this.takeWord('NIL')) return null;
    return this.string(what);
  }

  /** `(` item *(SP item) `)`; `allowEmpty` for grammars that say `[item *(SP item)]`. */
  list<T>(item: () => T, options: { allowEmpty?: boolean; limit?: number; what?: string } = {}): T[] {
    const what = options.what ?? 'list';
    this.expect('(');
    const items: T[] = [];
    if (this.take(0x29)) {
      if (!options.allowEmpty) throw syntaxError(`empty ${what}`);
      return items;
    }
    for (;;) {
      items.push(item());
      if (items.length > (options.limit ?? 1000)) throw syntaxError(`${what} has too many items`);
      if (this.take(0x29)) return items;
      this.space();
    }
  }
}
