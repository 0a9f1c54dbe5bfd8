// ENVELOPE, BODY/BODYSTRUCTURE and BODY[section] from the structure parsed once at
// ingest (DESIGN.md: serving a FETCH never re-parses the message). RFC 9051 §7.5.2.
import type { Address, BodyPart, Envelope, MessageStructure } from '../mime/structure.js';
import { decodeTransferEncoding } from '../mime/transfer-encoding.js';
import type { Section } from './parser/index.js';
import { concat, nstring } from './response.js';

type Piece = string | Buffer;

function join(pieces: Piece[], separator = ' '): Piece[] {
  const out: Piece[] = [];
  pieces.forEach((piece, index) => {
    if (index > 0) out.push(separator);
    out.push(piece);
  });
  return out;
}

function addresses(list: Address[] | null, utf8: boolean): Piece[] {
  if (!list || list.length === 0) return ['NIL'];
  const out: Piece[] = ['('];
  for (const address of list) {
    out.push('(', nstring(address.name, utf8), ' ', nstring(address.adl ?? null, utf8), ' ', nstring(address.mailbox, utf8), ' ', nstring(address.host, utf8), ')');
  }
  out.push(')');
  return out;
}

export function envelope(value: Envelope, utf8: boolean): Buffer {
  // RFC 9051 §7.5.2: date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to, message-id.
  return concat([
    '(',
    nstring(value.date, utf8), ' ',
    nstring(value.subject, utf8), ' ',
    ...addresses(value.from, utf8), ' ',
    ...addresses(value.sender, utf8), ' ',
    ...addresses(value.replyTo, utf8), ' ',
    ...addresses(value.to, utf8), ' ',
    ...addresses(value.cc, utf8), ' ',
    ...addresses(value.bcc, utf8), ' ',
    nstring(value.inReplyTo, utf8), ' ',
    nstring(value.messageId, utf8),
    ')',
  ]);
}

function parameters(list: [string, string][], utf8: boolean): Piece[] {
  if (list.length === 0) return ['NIL'];
  return ['(', ...join(list.flatMap(([name, value]) => [nstring(name.toUpperCase(), utf8), nstring(value, utf8)])), ')'];
}

function disposition(part: BodyPart, utf8: boolean): Piece[] {
  if (!part.disposition) return ['NIL'];
  return ['(', nstring(part.disposition.type.toUpperCase(), utf8), ' ', ...parameters(part.disposition.params, utf8), ')'];
}

function language(part: BodyPart, utf8: boolean): Piece[] {
  if (!part.language || part.language.length === 0) return ['NIL'];
  if (part.language.length === 1) return [nstring(part.language[0]!, utf8)];
  return ['(', ...join(part.language.map((value) => nstring(value, utf8))), ')'];
}

/** BODY (extensible = false) or BODYSTRUCTURE (true), RFC 9051 §7.5.2 and §9 `body`. */
function bodyPieces(part: BodyPart, extensible: boolean, utf8: boolean): Piece[] {
  if (part.type === 'multipart') {
    const out: Piece[] = ['('];
    if (part.children.length === 0) out.push('("TEXT" "PLAIN" NIL NIL NIL "7BIT" 0 0)');
    for (const child of part.children) out.push(...bodyPieces(child, extensible, utf8));
    out.push(' ', nstring(part.subtype.toUpperCase(), utf8));
    if (extensible) out.push(' ', ...parameters(part.params, utf8), ' ', ...disposition(part, utf8), ' ', ...language(part, utf8), ' ', nstring(part.location, utf8));
    out.push(')');
    return out;
  }
  const out: Piece[] = [
    '(',
    nstring(part.type.toUpperCase(), utf8), ' ',
    nstring(part.subtype.toUpperCase(), utf8), ' ',
    ...parameters(part.params, utf8), ' ',
    nstring(part.id, utf8), ' ',
    nstring(part.description, utf8), ' ',
    nstring(part.encoding.toUpperCase(), utf8), ' ',
    String(part.end - part.bodyStart),
  ];
  if (part.message && part.type === 'message') {
    out.push(' ', envelope(part.message.envelope, utf8), ' ', ...bodyPieces(part.message.root, extensible, utf8), ' ', String(part.lines));
  } else if (part.type === 'text') {
    out.push(' ', String(part.lines));
  }
  if (extensible) out.push(' ', nstring(part.md5, utf8), ' ', ...disposition(part, utf8), ' ', ...language(part, utf8), ' ', nstring(part.location, utf8));
  out.push(')');
  return out;
}

export function bodyStructure(structure: MessageStructure, extensible: boolean, utf8: boolean): Buffer {
  return concat(bodyPieces(structure.root, extensible, utf8));
}

// Part n of a message whose top-level part is `root` (RFC 9051 §6.4.5: a non-multipart message has part 1).
function childOf(root: BodyPart, index: number): BodyPart | null {
  if (root.type === 'multipart') return root.children[index - 1] ?? null;
  return index === 1 ? root : null;
}

/** The bytes a BODY[section] names, as [start, end) ranges of the message, or null when there is no such part. */
export function sectionRanges(structure: MessageStructure, section: Section): [number, number][] | null {
  // `message` is the part holding the header that HEADER/TEXT refer to; `part` the addressed part.
  let message: BodyPart = structure.root;
  let part: BodyPart | null = null;
  for (const index of section.part) {
    const container: BodyPart = part === null ? message : part.message ? part.message.root : part;
    const next = childOf(container, index);
    if (!next) return null;
    part = next;
  }
  if (part !== null && section.text && section.text.kind !== 'MIME') {
    // RFC 9051 §6.4.5: HEADER/TEXT after a part number refer to a message/rfc822 part's message.
    if (!part.message) return null;
    message = part.message.root;
  }
  const text = section.text;
  if (text === null) {
    if (part === null) return [[0, structure.size]];
    return [[part.bodyStart, part.end]];
  }
  switch (text.kind) {
    case 'MIME':
      return [[part!.headerStart, part!.bodyStart]];
    case 'HEADER':
      return [[message.headerStart, message.bodyStart]];
    case 'TEXT':
      return [[message.bodyStart, message.end]];
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT': {
      const wanted = new Set(text.fields.map((field) => field.toLowerCase()));
      const keep = text.kind === 'HEADER.FIELDS';
      const ranges: [number, number][] = message.headers.filter((field) => wanted.has(field.name) === keep).map((field) => [field.start, field.end]);
      return ranges;
    }
  }
}

/** The section's bytes; HEADER.FIELDS subsets end with the blank line (RFC 9051 §6.4.5). */
export function sectionBytes(message: Buffer, structure: MessageStructure, section: Section): Buffer | null {
  const ranges = sectionRanges(structure, section);
  if (!ranges) return null;
  const pieces = ranges.map(([start, end]) => message.subarray(start, Math.min(end, message.length)));
  if (section.text && (section.text.kind === 'HEADER.FIELDS' || section.text.kind === 'HEADER.FIELDS.NOT')) pieces.push(Buffer.from('\r\n'));
  return Buffer.concat(pieces);
}

/** How the item is named in the response: `BODY[1.2.HEADER.FIELDS (FROM)]`. */
export function sectionName(section: Section): string {
  const parts = section.part.join('.');
  const text = section.text;
  let suffix = '';
  if (text) {
    suffix = text.kind;
    if (text.kind === 'HEADER.FIELDS' || text.kind === 'HEADER.FIELDS.NOT') suffix += ` (${text.fields.map((field) => field.toUpperCase()).join(' ')})`;
  }
  return parts && suffix ? `${parts}.${suffix}` : parts + suffix;
}

/** The part a section-part names (`[]` is the top-level part), or null. */
export function findPart(structure: MessageStructure, path: number[]): BodyPart | null {
  let part: BodyPart | null = null;
  for (const index of path) {
    const container: BodyPart = part === null ? structure.root : part.message ? part.message.root : part;
    part = childOf(container, index);
    if (!part) return null;
  }
  return part ?? structure.root;
}

/**
 * BINARY[part] (RFC 3516 §4, RFC 9051 §6.4.5): the part's body with its
 * Content-Transfer-Encoding removed; null for an encoding this server does not know.
 */
export function decodedPart(message: Buffer, structure: MessageStructure, path: number[]): Buffer | null | undefined {
  if (path.length === 0) return message;
  const part = findPart(structure, path);
  if (!part) return undefined;
  return decodeTransferEncoding(message.subarray(part.bodyStart, Math.min(part.end, message.length)), part.encoding);
}
