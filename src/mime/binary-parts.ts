// Binary MIME parts re-encoded as base64, for messages that arrive as binary
// (IMAP APPEND with a literal8, RFC 3516 §4.4). A part in Content-Transfer-Encoding
// binary may hold NUL, which no IMAP literal may carry (RFC 9051 §4.3): BODY[] could
// not be served. Re-encoding keeps the content (BINARY[] still gives the same bytes)
// and makes every BODY[] sendable. Uses the part byte ranges of the parsed structure.
import type { BodyPart, MessageStructure } from './structure.js';

interface Edit {
  start: number;
  end: number;
  bytes: Buffer;
}

function base64Lines(body: Buffer): Buffer {
  // RFC 2045 §6.8: lines of at most 76 characters.
  const text = body.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(text.endsWith('\r\n') || text === '' ? text : text + '\r\n');
}

function needsEncoding(message: Buffer, part: BodyPart): boolean {
  if (part.encoding === 'binary') return true;
  if (part.encoding === 'base64' || part.encoding === 'quoted-printable') return false;
  return message.subarray(part.bodyStart, part.end).includes(0);
}

function collect(message: Buffer, part: BodyPart, edits: Edit[]): void {
  if (part.type === 'multipart') {
    for (const child of part.children) collect(message, child, edits);
    return;
  }
  if (part.message) {
    collect(message, part.message.root, edits);
    return;
  }
  if (!needsEncoding(message, part)) return;
  const field = part.headers.find((header) => header.name === 'content-transfer-encoding');
  const header = Buffer.from('Content-Transfer-Encoding: base64\r\n');
  if (field) edits.push({ start: field.start, end: field.end, bytes: header });
  else {
    // No such field: it goes at the end of the part's header, before the empty line.
    const at = part.headers.length > 0 ? part.headers.at(-1)!.end : part.headerStart;
    edits.push({ start: at, end: at, bytes: header });
  }
  let encoded = base64Lines(message.subarray(part.bodyStart, part.end));
  // Inside a multipart the line break before the next boundary belongs to the boundary (RFC 2046 §5.1.1).
  if (part.end < message.length) encoded = encoded.subarray(0, Math.max(0, encoded.length - 2));
  edits.push({ start: part.bodyStart, end: part.end, bytes: encoded });
}

/** The message with binary (or NUL-holding) parts as base64; null when nothing needs it. */
export function encodeBinaryParts(message: Buffer, structure: MessageStructure): Buffer | null {
  const edits: Edit[] = [];
  collect(message, structure.root, edits);
  if (edits.length === 0) return null;
  edits.sort((a, b) => a.start - b.start);
  const pieces: Buffer[] = [];
  let position = 0;
  for (const edit of edits) {
    pieces.push(message.subarray(position, edit.start), edit.bytes);
    position = edit.end;
  }
  pieces.push(message.subarray(position));
  return Buffer.concat(pieces);
}
