// The text IMAP SEARCH looks in (RFC 9051 §6.4.4): header values unfolded with
// their RFC 2047 encoded-words decoded, and body parts with their transfer
// encoding (base64, quoted-printable) and charset removed — all as Unicode, so a
// UTF-8 search string finds text however the message encoded it. It works from
// the part byte ranges parsed at ingest (structure.ts); nothing is re-parsed.
import { decode as decodeCharset } from 'libmime/lib/charset.js';
import type { Address, BodyPart, HeaderField, MessageStructure } from './structure.js';
import { binaryToText, decodeEncodedWords } from './text.js';
import { decodeTransferEncoding } from './transfer-encoding.js';

/**
 * Case folding for "case-insensitive" matching. RFC 9051 §6.4.4 leaves the
 * comparator to the server; this folds Unicode case and compatibility forms (as
 * i;unicode-casemap, RFC 5051, does in spirit) so that "É" finds "é".
 */
export function foldCase(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** A field's value: unfolded (RFC 5322 §2.2.3), encoded-words decoded, Unicode. */
export function headerFieldValue(message: Buffer, field: HeaderField): string {
  const raw = message.subarray(field.start, Math.min(field.end, message.length)).toString('latin1');
  const colon = raw.indexOf(':');
  const value = raw.slice(colon + 1).replace(/\r?\n(?=[ \t])/g, '').replace(/\r?\n$/, '').trim();
  return decodeEncodedWords(binaryToText(value));
}

/** Every value of a field (lower-case name) in a part's own header, in order. */
export function headerValues(message: Buffer, part: BodyPart, name: string): string[] {
  const wanted = name.toLowerCase();
  return part.headers.filter((field) => field.name === wanted).map((field) => headerFieldValue(message, field));
}

/** A whole header as `Name: value` lines, decoded. */
export function headerText(message: Buffer, part: BodyPart): string {
  return part.headers
    .map((field) => {
      const raw = message.subarray(field.start, Math.min(field.end, message.length)).toString('latin1');
      const colon = raw.indexOf(':');
      return `${colon < 0 ? raw : raw.slice(0, colon)}: ${headerFieldValue(message, field)}`;
    })
    .join('\r\n');
}

/**
 * An address list as people read it: `Name <mailbox@host>`, names decoded, groups as
 * `group: …;` (RFC 5322 §3.4). FROM/TO/CC/BCC match it as well as the raw header, so
 * a search finds the address however the header spelled it (comments, routes).
 */
export function addressText(list: readonly Address[] | null): string {
  if (!list) return '';
  const pieces: string[] = [];
  for (const address of list) {
    if (address.host === null) {
      // RFC 3501 §7.4.2 group markers: start has the group name as mailbox, end is all NIL.
      pieces.push(address.mailbox === null ? ';' : `${address.mailbox}:`);
      continue;
    }
    const name = address.name === null ? '' : decodeEncodedWords(address.name) + ' ';
    pieces.push(`${name}<${address.mailbox ?? ''}@${address.host}>`);
  }
  return pieces.join(', ');
}

function charsetOf(part: BodyPart): string | null {
  return part.params.find(([name]) => name === 'charset')?.[1] ?? null;
}

/** Bytes in the part's declared charset to Unicode; undeclared or US-ASCII text with 8-bit bytes is taken as UTF-8, else Latin-1. */
export function decodeText(bytes: Buffer, charset: string | null): string {
  const name = charset?.trim().toLowerCase() ?? '';
  if (name === '' || name === 'us-ascii' || name === 'ascii') return binaryToText(bytes.toString('latin1'));
  try {
    return decodeCharset(bytes, name);
  } catch {
    return binaryToText(bytes.toString('latin1'));
  }
}

function collectBody(message: Buffer, part: BodyPart, out: string[]): void {
  if (part.type === 'multipart') {
    for (const child of part.children) collectBody(message, child, out);
    return;
  }
  if (part.message) {
    // An attached message's header and body are both text of the enclosing body.
    out.push(headerText(message, part.message.root));
    collectBody(message, part.message.root, out);
    return;
  }
  // Only text is searched: an image or a zip file holds no words a search string could name.
  if (part.type !== 'text') return;
  const body = message.subarray(part.bodyStart, Math.min(part.end, message.length));
  const decoded = decodeTransferEncoding(body, part.encoding);
  out.push(decodeText(decoded ?? body, charsetOf(part)));
}

/** The decoded text of every text part of the body (RFC 9051 §6.4.4 BODY), one string per part. */
export function bodyTexts(message: Buffer, structure: MessageStructure): string[] {
  const out: string[] = [];
  collectBody(message, structure.root, out);
  return out;
}
