// Submission's check of who a message says it is from (RFC 6409 §8.1: the
// server may refuse a From: the user is not allowed to use). Every address in
// From: and Sender: must be one the authenticated account may send as. A check
// is only as good as its agreement with the programs that later read the
// header, so the header must also parse cleanly: one strict grammar
// (src/mime/mailbox-list.ts) and nodemailer's addressparser, which mail
// software built on Node.js uses (on the field as it is, and with its
// encoded-words decoded first), must find exactly the same addresses;
// anything they could read differently is refused rather than guessed at.
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';
import { parseMailboxListStrictly, type StrictMailbox } from '../mime/mailbox-list.js';
import { headerSectionEnd } from './header-section.js';
import { replyText } from './reply-text.js';
import { SmtpReply } from './smtp-reply.js';

// ignoreBOM: a byte order mark stays in the text (and is refused there) instead of vanishing unseen.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

interface RawField {
  name: string;
  /** The bytes after the colon, folds (CRLF or LF before WSP, RFC 5322 §2.2.3) kept as received. */
  value: Buffer;
}

function refuse(text: string): never {
  throw new SmtpReply(553, '5.7.1', replyText(text));
}

/**
 * The header fields of `head`, refusing any line that is neither a field nor a
 * continuation: a reader that splits lines differently (Python's email package
 * also breaks lines at a bare CR, and str.splitlines() at VT, FF and FS..RS)
 * could otherwise find a From: field that this check never saw.
 */
function strictFields(head: Buffer, messageSize: number): RawField[] {
  let end = headerSectionEnd(head);
  if (end === null) {
    if (messageSize > head.length) refuse(`The header section is longer than ${head.length} bytes`);
    end = head.length; // the message is all header (RFC 5322 §3.5: the body is optional)
  }
  const fields: { name: string; pieces: Buffer[]; terminator: Buffer }[] = [];
  let lineStart = 0;
  let lineNumber = 0;
  while (lineStart < end) {
    lineNumber++;
    let lineEnd = head.indexOf(0x0a, lineStart);
    if (lineEnd < 0 || lineEnd >= end) lineEnd = end;
    const contentEnd = lineEnd > lineStart && head[lineEnd - 1] === 0x0d ? lineEnd - 1 : lineEnd;
    const line = head.subarray(lineStart, contentEnd);
    const terminator = head.subarray(contentEnd, Math.min(lineEnd + 1, end));
    lineStart = lineEnd + 1;
    if (line.length === 0) break;
    for (const byte of line) {
      // RFC 5322 §2.2: field bodies are printable characters, SP and HTAB; 8-bit bytes are RFC 6532's UTF-8.
      if ((byte < 0x20 && byte !== 0x09) || byte === 0x7f) refuse(`Header line ${lineNumber} holds control character 0x${byte.toString(16).padStart(2, '0')}`);
    }
    if (line[0] === 0x20 || line[0] === 0x09) {
      if (fields.length === 0) refuse('The header section starts with a continuation line');
      const field = fields[fields.length - 1]!;
      field.pieces.push(field.terminator, line);
      field.terminator = terminator;
      continue;
    }
    const colon = line.indexOf(0x3a);
    // RFC 5322 §3.6.8: field-name = 1*ftext (printable US-ASCII but ":"), and no WSP before the colon (that is §4.5 obs-syntax).
    if (colon <= 0) refuse(`Header line ${lineNumber} is not a header field`);
    for (let index = 0; index < colon; index++) {
      const byte = line[index]!;
      if (byte <= 0x20 || byte >= 0x7f) refuse(`Header line ${lineNumber} has an invalid field name`);
    }
    fields.push({ name: line.toString('latin1', 0, colon).toLowerCase(), pieces: [line.subarray(colon + 1)], terminator });
  }
  return fields.map((field) => ({ name: field.name, value: Buffer.concat(field.pieces) }));
}

/** Parses one From:/Sender: value strictly and cross-checks it against nodemailer's reading. */
function readMailboxes(name: string, value: Buffer): StrictMailbox[] {
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    refuse(`The ${name}: field is not valid UTF-8`);
  }
  const parsed = parseMailboxListStrictly(text);
  if (!parsed.ok) refuse(`The ${name}: field does not parse cleanly (RFC 5322 §3.4): ${parsed.reason}`);
  const ours = parsed.mailboxes.map((mailbox) => mailbox.address);
  const unfolded = text.replace(/\r?\n(?=[ \t])/g, '');
  // Software that decodes RFC 2047 encoded-words before it parses the list reads
  // "=?utf-8?q?Bob_=3Cbob=40example.com=3E?= <alice@…>" as bob's: that reading must agree too.
  let decoded: string;
  try {
    decoded = libmime.decodeWords(unfolded);
  } catch {
    refuse(`The ${name}: field has an encoded-word that cannot be decoded`);
  }
  for (const reading of [unfolded, decoded]) {
    const theirs = addressparser(reading, { flatten: true }).map((entry) => entry.address);
    if (ours.length !== theirs.length || ours.some((address, index) => address !== theirs[index])) {
      refuse(`The ${name}: field reads differently to other mail software`);
    }
  }
  return parsed.mailboxes;
}

/**
 * Checks the From: and Sender: fields of a submitted message and returns the
 * From: addresses (in order). `mayUse` says whether the account may send as an
 * address; it is asked once per distinct address.
 */
export async function checkSenderFields(head: Buffer, messageSize: number, mayUse: (address: string) => Promise<boolean>): Promise<string[]> {
  const fields = strictFields(head, messageSize);
  const from = fields.filter((field) => field.name === 'from');
  const sender = fields.filter((field) => field.name === 'sender');
  // RFC 5322 §3.6: exactly one From:, at most one Sender:.
  if (from.length !== 1) throw new SmtpReply(550, '5.6.0', 'The message needs exactly one From: header field (RFC 5322 §3.6)');
  if (sender.length > 1) throw new SmtpReply(550, '5.6.0', 'The message has more than one Sender: header field (RFC 5322 §3.6)');
  const fromAddresses = readMailboxes('From', from[0]!.value).map((mailbox) => mailbox.address);
  const addresses = [...fromAddresses];
  if (sender.length === 1) {
    const senderMailboxes = readMailboxes('Sender', sender[0]!.value);
    // RFC 5322 §3.6.2: sender = "Sender:" mailbox (one, not a list).
    if (senderMailboxes.length !== 1) refuse('The Sender: field must hold exactly one mailbox');
    addresses.push(senderMailboxes[0]!.address);
  }
  const checked = new Set<string>();
  for (const address of addresses) {
    const key = address.toLowerCase();
    if (checked.has(key)) continue;
    checked.add(key);
    if (!(await mayUse(address))) refuse(`${fromAddresses.includes(address) ? 'From:' : 'Sender:'} address <${address}> is not yours to send from`);
  }
  return fromAddresses;
}
