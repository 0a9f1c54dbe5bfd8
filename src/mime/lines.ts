// Splits a byte stream into lines without ever holding a whole line: only the
// first `keep` bytes of each line are kept (the caller decides how many, per
// line), so a 50 MB line costs no more memory than a short one and no
// quadratic re-concatenation.

export interface Line {
  start: number; // offset of the first byte of the line
  termStart: number; // offset of the line terminator (CRLF or bare LF); equals end when unterminated
  end: number; // offset just past the LF
  contentLength: number; // termStart - start
  content: Buffer; // the first min(contentLength, keep) bytes, valid only during the callback
  terminated: boolean; // false only for a last line without LF
}

export class LineSplitter {
  private offset = 0; // absolute offset of the next byte pushed
  private lineStart = 0;
  private pieces: Buffer[] = []; // copies of the kept prefix of a line spanning chunks
  private kept = 0;
  private keep = -1; // bytes to keep for the current line, -1 before it is asked
  private lastByte = -1; // last byte seen, to find a CR split from its LF by a chunk edge

  constructor(
    private readonly keepFor: (lineStart: number) => number,
    private readonly onLine: (line: Line) => void,
  ) {}

  get size(): number {
    return this.offset;
  }

  get endsWithLineFeed(): boolean {
    return this.lastByte === 0x0a;
  }

  push(chunk: Buffer): void {
    const base = this.offset;
    let position = 0;
    while (position < chunk.length) {
      if (this.keep < 0) this.keep = this.keepFor(this.lineStart);
      const lineFeed = chunk.indexOf(0x0a, position);
      if (lineFeed === -1) {
        this.retain(chunk, position, chunk.length);
        this.lastByte = chunk[chunk.length - 1];
        break;
      }
      const carriageReturn = lineFeed > position ? chunk[lineFeed - 1] === 0x0d : this.lastByte === 0x0d;
      const end = base + lineFeed + 1;
      const termStart = end - (carriageReturn ? 2 : 1);
      const contentLength = termStart - this.lineStart;
      let content: Buffer;
      if (this.pieces.length === 0) {
        // Common case: the whole line is in this chunk; no copy.
        content = chunk.subarray(position, position + Math.min(contentLength, this.keep));
      } else {
        this.retain(chunk, position, lineFeed);
        content = Buffer.concat(this.pieces, this.kept);
        if (content.length > contentLength) content = content.subarray(0, Math.max(contentLength, 0));
      }
      this.lastByte = 0x0a;
      const line: Line = { start: this.lineStart, termStart, end, contentLength, content, terminated: true };
      this.reset(end);
      position = lineFeed + 1;
      this.offset = base + position;
      this.onLine(line);
    }
    this.offset = base + chunk.length;
  }

  /** Emits the last, unterminated line if there is one. */
  finish(): void {
    if (this.offset === this.lineStart) return;
    const content = Buffer.concat(this.pieces, this.kept);
    const line: Line = {
      start: this.lineStart,
      termStart: this.offset,
      end: this.offset,
      contentLength: this.offset - this.lineStart,
      content,
      terminated: false,
    };
    this.reset(this.offset);
    this.onLine(line);
  }

  private retain(chunk: Buffer, from: number, to: number): void {
    const room = this.keep - this.kept;
    if (room <= 0 || to <= from) return;
    const piece = Buffer.from(chunk.subarray(from, from + Math.min(room, to - from)));
    this.pieces.push(piece);
    this.kept += piece.length;
  }

  private reset(nextStart: number): void {
    this.lineStart = nextStart;
    this.pieces = [];
    this.kept = 0;
    this.keep = -1;
  }
}
