// The streaming state machine behind createStructureParser(): it sees the
// message one line at a time (see lines.ts), keeps a stack of open parts and
// records byte offsets as it goes. It keeps only header values it needs and
// the first bytes of body lines that might be boundaries, so memory does not
// grow with the size of a body.

import libmime from 'libmime';
import type { BodyPart, HeaderField, MessageStructure } from './structure.js';
import { LineSplitter, type Line } from './lines.js';
import { readContent, type Content } from './content.js';
import { buildEnvelope, emptyEnvelope, type HeaderLookup } from './envelope.js';
import { parseMessageId, parseMessageIds } from './identifiers.js';
import { parseDate } from './date.js';
import { binaryToText, cleanValue } from './text.js';
import {
  MAX_BOUNDARY_LENGTH,
  MAX_BOUNDARY_LINE_KEEP,
  MAX_DEPTH,
  MAX_HEADER_FIELDS_PER_PART,
  MAX_HEADER_FIELDS_TOTAL,
  MAX_HEADER_LINE_KEEP,
  MAX_HEADER_VALUE_LENGTH,
  MAX_PARTS,
} from './limits.js';

// Header fields whose values the structure needs; all others are only indexed by offset.
const KEPT_FIELDS = new Set([
  'content-type', 'content-transfer-encoding', 'content-id', 'content-description', 'content-md5',
  'content-disposition', 'content-language', 'content-location',
  'date', 'subject', 'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'in-reply-to', 'message-id', 'references',
]);

interface Value {
  pieces: Buffer[];
  length: number;
}

interface Frame {
  part: BodyPart;
  depth: number;
  state: 'header' | 'body';
  kind: 'leaf' | 'multipart' | 'message';
  boundary: Buffer | null; // set while a multipart body is open and its close-delimiter not yet seen
  defaultType: 'text/plain' | 'message/rfc822';
  values: Map<string, Value>;
  field: { entry: HeaderField | null; value: Value | null } | null; // the field that continuation lines extend
  lineFeedsAtHeader: number;
  lineFeedsAtBody: number;
  owner: BodyPart | null; // the message/rfc822 part whose enclosed message this frame is
  content: Content | null; // parsed when the header ends, consumed by openBody()
}

/** Where a part ends: offset, LFs before it, and whether the byte before it is a LF. */
interface Stop {
  end: number;
  lineFeeds: number;
  afterLineFeed: boolean;
}

interface TopFields {
  envelope: MessageStructure['envelope'];
  messageId: string | null;
  inReplyTo: string[];
  references: string[];
  subject: string;
  sentDate: number | null;
}

export function emptyPart(headerStart: number): BodyPart {
  return {
    headerStart,
    bodyStart: headerStart,
    end: headerStart,
    lines: 0,
    type: 'text',
    subtype: 'plain',
    params: [],
    id: null,
    description: null,
    encoding: '7bit',
    md5: null,
    disposition: null,
    language: null,
    location: null,
    headers: [],
    children: [],
    message: null,
  };
}

function decodeSubject(subject: string | null): string {
  if (subject === null) return '';
  try {
    return libmime.decodeWords(subject).trim();
  } catch {
    return subject;
  }
}

export class StructureBuilder {
  private readonly frames: Frame[] = [];
  private readonly splitter: LineSplitter;
  private readonly root: BodyPart;
  private lineFeeds = 0; // LFs in the lines handled so far
  private previous: { start: number; termStart: number; contentLength: number } | null = null;
  private partCount = 1;
  private fieldCount = 0;
  private opaque = false; // MAX_PARTS reached: no more structure is recognised
  private top: TopFields | null = null;

  constructor() {
    this.root = emptyPart(0);
    this.frames.push(this.newFrame(this.root, 0, 'text/plain', null, 0));
    this.splitter = new LineSplitter(
      () => this.keepFor(),
      (line) => this.onLine(line),
    );
  }

  push(chunk: Buffer): void {
    this.splitter.push(chunk);
  }

  finish(): MessageStructure {
    this.splitter.finish();
    const size = this.splitter.size;
    this.closeAbove(-1, { end: size, lineFeeds: this.lineFeeds, afterLineFeed: size === 0 || this.splitter.endsWithLineFeed });
    const top = this.top ?? this.topFields(() => null);
    return {
      version: 1,
      size,
      envelope: top.envelope,
      root: this.root,
      messageId: top.messageId,
      inReplyTo: top.inReplyTo,
      references: top.references,
      subject: top.subject,
      sentDate: top.sentDate,
    };
  }

  private newFrame(part: BodyPart, depth: number, defaultType: Frame['defaultType'], owner: BodyPart | null, lineFeeds: number): Frame {
    return {
      part,
      depth,
      state: 'header',
      kind: 'leaf',
      boundary: null,
      defaultType,
      values: new Map(),
      field: null,
      lineFeedsAtHeader: lineFeeds,
      lineFeedsAtBody: lineFeeds,
      owner,
      content: null,
    };
  }

  private get current(): Frame {
    return this.frames[this.frames.length - 1];
  }

  private keepFor(): number {
    return this.current.state === 'header' ? MAX_HEADER_LINE_KEEP : MAX_BOUNDARY_LINE_KEEP;
  }

  private onLine(line: Line): void {
    const lineFeedsAtStart = this.lineFeeds;
    const lineFeedsAtEnd = lineFeedsAtStart + (line.terminated ? 1 : 0);
    const mayBeBoundary = !this.opaque && line.contentLength >= 3 && line.content[0] === 0x2d && line.content[1] === 0x2d;
    if (mayBeBoundary && this.matchBoundary(line, lineFeedsAtStart, lineFeedsAtEnd)) {
      // a delimiter line belongs to no part's content
    } else if (this.current.state === 'header') {
      this.headerLine(this.current, line, lineFeedsAtEnd);
    }
    // Body lines of a leaf need nothing: the LF count is global.
    this.lineFeeds = lineFeedsAtEnd;
    this.previous = { start: line.start, termStart: line.termStart, contentLength: line.contentLength };
  }

  /** RFC 2046 §5.1.1: "--" boundary [ "--" ] transport-padding. Outer boundaries also end inner parts. */
  private matchBoundary(line: Line, lineFeedsAtStart: number, lineFeedsAtEnd: number): boolean {
    for (let index = this.frames.length - 1; index >= 0; index--) {
      const frame = this.frames[index];
      if (frame.kind !== 'multipart' || frame.state !== 'body' || frame.boundary === null) continue;
      const kind = compareBoundary(line, frame.boundary);
      if (kind === null) continue;

      // RFC 2046 §5.1.1: the CRLF before a delimiter belongs to the delimiter,
      // so the part before it ends at that CRLF (RFC 3501 §6.4.5 BODY[n] excludes it).
      const previous = this.previous;
      let stop: Stop;
      if (previous !== null && line.start > frame.part.bodyStart && previous.start >= frame.part.bodyStart) {
        stop = { end: previous.termStart, lineFeeds: lineFeedsAtStart - 1, afterLineFeed: previous.contentLength === 0 };
      } else {
        stop = { end: line.start, lineFeeds: lineFeedsAtStart, afterLineFeed: true };
      }
      this.closeAbove(index, stop);
      if (kind === 'close') {
        frame.boundary = null; // the epilogue follows; RFC 2046 says to ignore it
      } else if (this.reservePart()) {
        const child = emptyPart(line.end);
        frame.part.children.push(child);
        // RFC 2046 §5.1.5: in multipart/digest a part without Content-Type is message/rfc822.
        const defaultType = frame.part.subtype === 'digest' ? 'message/rfc822' : 'text/plain';
        this.frames.push(this.newFrame(child, frame.depth + 1, defaultType, null, lineFeedsAtEnd));
      }
      return true;
    }
    return false;
  }

  private headerLine(frame: Frame, line: Line, lineFeedsAtEnd: number): void {
    const part = frame.part;
    const content = line.content;
    if (line.contentLength === 0) {
      // RFC 5322 §2.1: an empty line ends the header section.
      part.bodyStart = line.end;
      frame.lineFeedsAtBody = lineFeedsAtEnd;
      frame.field = null;
      this.finishHeaders(frame);
      this.openBody(frame, lineFeedsAtEnd);
      return;
    }
    const first = content[0];
    if (first === 0x20 || first === 0x09) {
      // RFC 5322 §2.2.3: a line starting with WSP continues the previous field.
      const field = frame.field;
      if (field === null) return;
      if (field.entry !== null) field.entry.end = line.end;
      if (field.value !== null) append(field.value, content);
      return;
    }
    frame.field = null;
    const colon = content.indexOf(0x3a);
    if (colon <= 0) return; // not a header field (e.g. an mbox "From " line); kept as bytes only
    let nameEnd = colon;
    while (nameEnd > 0 && (content[nameEnd - 1] === 0x20 || content[nameEnd - 1] === 0x09)) nameEnd--; // RFC 5322 §4.5 obs: WSP before ":"
    if (nameEnd === 0) return;
    for (let i = 0; i < nameEnd; i++) {
      const byte = content[i];
      if (byte < 33 || byte > 126) return; // RFC 5322 §2.2: field names are printable US-ASCII
    }
    const name = content.toString('latin1', 0, nameEnd).toLowerCase();
    let entry: HeaderField | null = null;
    if (part.headers.length < MAX_HEADER_FIELDS_PER_PART && this.fieldCount < MAX_HEADER_FIELDS_TOTAL) {
      entry = { name, start: line.start, end: line.end };
      part.headers.push(entry);
      this.fieldCount++;
    }
    let value: Value | null = null;
    if (KEPT_FIELDS.has(name) && !frame.values.has(name)) {
      // The first occurrence wins: duplicates are invalid (RFC 5322 §3.6) and clients disagree otherwise.
      value = { pieces: [], length: 0 };
      frame.values.set(name, value);
      append(value, content.subarray(colon + 1));
    }
    frame.field = { entry, value };
  }

  private finishHeaders(frame: Frame): void {
    const values = frame.values;
    const binary = (name: string): string | null => {
      const value = values.get(name);
      return value === undefined ? null : cleanValue(Buffer.concat(value.pieces, value.length).toString('latin1'));
    };
    const text: HeaderLookup = (name) => {
      const value = binary(name);
      return value === null ? null : binaryToText(value);
    };
    const content = readContent(binary, frame.defaultType);
    const part = frame.part;
    part.type = content.type;
    part.subtype = content.subtype;
    part.params = content.params;
    part.id = content.id;
    part.description = content.description;
    part.encoding = content.encoding;
    part.md5 = content.md5;
    part.disposition = content.disposition;
    part.language = content.language;
    part.location = content.location;
    if (frame.owner !== null && frame.owner.message !== null) frame.owner.message.envelope = buildEnvelope(text);
    if (part === this.root) this.top = this.topFields(text);
    frame.content = content;
    frame.values = new Map();
    frame.field = null;
  }

  private openBody(frame: Frame, lineFeedsAtBody: number): void {
    const part = frame.part;
    const content = frame.content;
    frame.content = null;
    frame.state = 'body';
    frame.kind = 'leaf';
    if (this.opaque || frame.depth >= MAX_DEPTH || content === null) return;
    const boundary = content.boundary;
    if (part.type === 'multipart') {
      // RFC 2046 §5.1.1: without a usable boundary the body cannot be split; it stays one opaque part.
      if (boundary !== null && boundary.length <= MAX_BOUNDARY_LENGTH) {
        frame.kind = 'multipart';
        frame.boundary = boundary;
      }
      return;
    }
    // RFC 2046 §5.2.1 (and RFC 6532 §3.5 message/global): only an unencoded message can be parsed in place.
    if (part.type === 'message' && (part.subtype === 'rfc822' || part.subtype === 'global') && ['7bit', '8bit', 'binary'].includes(part.encoding)) {
      if (!this.reservePart()) return;
      const root = emptyPart(part.bodyStart);
      part.message = { envelope: emptyEnvelope(), root };
      frame.kind = 'message';
      this.frames.push(this.newFrame(root, frame.depth + 1, 'text/plain', part, lineFeedsAtBody));
    }
  }

  private reservePart(): boolean {
    if (this.partCount >= MAX_PARTS) {
      this.opaque = true;
      return false;
    }
    this.partCount++;
    return true;
  }

  /** Closes every frame above `index`, innermost first; outer ends never precede inner ones. */
  private closeAbove(index: number, stop: Stop): void {
    let at = stop;
    while (this.frames.length - 1 > index) {
      at = this.closeFrame(this.frames.pop()!, at);
    }
  }

  private closeFrame(frame: Frame, at: Stop): Stop {
    const part = frame.part;
    if (frame.state === 'header') {
      // Ended inside its header (no empty line): the header runs to the end, the body is empty.
      const end = Math.max(at.end, part.headerStart);
      part.bodyStart = end;
      part.end = end;
      part.lines = 0;
      for (const field of part.headers) {
        if (field.end > end) field.end = end;
        if (field.start > end) field.start = end;
      }
      this.finishHeaders(frame);
      frame.content = null;
      return end === at.end ? at : { end, lineFeeds: frame.lineFeedsAtHeader, afterLineFeed: true };
    }
    const end = Math.max(at.end, part.bodyStart);
    part.end = end;
    if (end === at.end) {
      const partial = end > part.bodyStart && !at.afterLineFeed ? 1 : 0;
      part.lines = Math.max(0, at.lineFeeds - frame.lineFeedsAtBody + partial);
      return at;
    }
    part.lines = 0;
    return { end, lineFeeds: frame.lineFeedsAtBody, afterLineFeed: true };
  }

  private topFields(text: HeaderLookup): TopFields {
    const date = text('date');
    return {
      envelope: buildEnvelope(text),
      messageId: parseMessageId(text('message-id')),
      inReplyTo: parseMessageIds(text('in-reply-to')),
      references: parseMessageIds(text('references')),
      subject: decodeSubject(text('subject')),
      sentDate: parseDate(date),
    };
  }
}

function append(value: Value, bytes: Buffer): void {
  const room = MAX_HEADER_VALUE_LENGTH - value.length;
  if (room <= 0 || bytes.length === 0) return;
  const piece = Buffer.from(bytes.subarray(0, room));
  value.pieces.push(piece);
  value.length += piece.length;
}

function compareBoundary(line: Line, boundary: Buffer): 'delimiter' | 'close' | null {
  const content = line.content;
  const after = 2 + boundary.length;
  if (line.contentLength < after || content.length < after) return null;
  if (content.compare(boundary, 0, boundary.length, 2, after) !== 0) return null;
  if (line.contentLength >= after + 2 && content.length >= after + 2 && content[after] === 0x2d && content[after + 1] === 0x2d) {
    return 'close'; // whatever follows a close-delimiter is tolerated
  }
  if (content.length < line.contentLength) return null; // too much padding to verify
  for (let i = after; i < content.length; i++) {
    const byte = content[i];
    if (byte !== 0x20 && byte !== 0x09) return null; // RFC 2046 §5.1.1: only transport-padding may follow
  }
  return 'delimiter';
}
