// The "parse once" message structure: computed at ingest from the raw bytes,
// cached as JSON, and used by IMAP FETCH (ENVELOPE, BODYSTRUCTURE,
// BODY[section], HEADER.FIELDS) without parsing the message again.
// All offsets are byte offsets from the start of the message.

import { StructureBuilder, emptyPart } from './parser.js';
import { emptyEnvelope } from './envelope.js';
import { MAX_SLICE } from './limits.js';

export interface HeaderField {
  name: string; // lower-case
  start: number; // byte offsets of the whole field incl. its CRLF (and folded lines)
  end: number;
}

/** IMAP ENVELOPE address; groups as RFC 3501 §7.4.2 (start marker: host null, mailbox = group name; end marker: all null). */
export interface Address {
  name: string | null;
  adl: string | null; // RFC 5322 §4.4 obsolete route ("@a,@b"), else null
  mailbox: string | null;
  host: string | null;
}

/** Raw (unfolded, undecoded) header text as IMAP sends it; sender/replyTo default to from per RFC 3501. */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: Address[] | null;
  sender: Address[] | null;
  replyTo: Address[] | null;
  to: Address[] | null;
  cc: Address[] | null;
  bcc: Address[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

export interface BodyPart {
  headerStart: number; // header = [headerStart, bodyStart), body = [bodyStart, end)
  bodyStart: number;
  end: number;
  lines: number; // body line count (for text/* and message/rfc822 BODYSTRUCTURE)
  type: string; // lower-case; default text/plain (message/rfc822 inside multipart/digest), RFC 2045/2046
  subtype: string;
  params: [string, string][]; // names lower-cased; values raw, RFC 2231 continuations joined
  id: string | null;
  description: string | null;
  encoding: string; // lower-case, default "7bit"
  md5: string | null;
  disposition: { type: string; params: [string, string][] } | null;
  language: string[] | null;
  location: string | null;
  headers: HeaderField[]; // this part's own header fields
  children: BodyPart[]; // multipart/*: the subparts
  message: { envelope: Envelope; root: BodyPart } | null; // message/rfc822 and message/global
}

export interface MessageStructure {
  version: 1;
  size: number;
  envelope: Envelope;
  root: BodyPart;
  messageId: string | null;
  inReplyTo: string[];
  references: string[];
  subject: string; // RFC 2047 decoded, for sorting and threading
  sentDate: number | null; // ms since epoch from Date:, null if absent or unparseable
}

export interface StructureParser {
  /** Feeds the next bytes; resolves when they are consumed (await it for backpressure). Never rejects on bad input. */
  write(chunk: Buffer): Promise<void>;
  /** Ends the input and returns the structure. Never rejects on bad input. */
  finish(): Promise<MessageStructure>;
}

function countLineFeeds(chunk: Buffer): number {
  let count = 0;
  let position = chunk.indexOf(0x0a);
  while (position !== -1) {
    count++;
    position = chunk.indexOf(0x0a, position + 1);
  }
  return count;
}

/** The structure used when parsing failed unexpectedly: one text/plain body covering the whole message. */
function wholeMessageAsText(size: number, lineFeeds: number, endsWithLineFeed: boolean): MessageStructure {
  const root = emptyPart(0);
  root.end = size;
  root.params = [['charset', 'us-ascii']];
  root.lines = lineFeeds + (size > 0 && !endsWithLineFeed ? 1 : 0);
  return {
    version: 1,
    size,
    envelope: emptyEnvelope(),
    root,
    messageId: null,
    inReplyTo: [],
    references: [],
    subject: '',
    sentDate: null,
  };
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function createStructureParser(): StructureParser {
  let builder: StructureBuilder | null = new StructureBuilder();
  let size = 0;
  let lineFeeds = 0;
  let lastByte = -1;
  let finished = false;
  // Writes are chained so that calls made without awaiting still apply in order.
  let queue: Promise<void> = Promise.resolve();

  const consume = async (chunk: Buffer): Promise<void> => {
    // Large chunks are processed in slices so one write cannot block the event loop for long.
    for (let offset = 0; offset < chunk.length; offset += MAX_SLICE) {
      if (offset > 0) await yieldToEventLoop();
      const slice = chunk.subarray(offset, offset + MAX_SLICE);
      size += slice.length;
      lineFeeds += countLineFeeds(slice);
      lastByte = slice[slice.length - 1];
      if (builder !== null) {
        try {
          builder.push(slice);
        } catch {
          builder = null; // keep counting; finish() falls back to a single text part
        }
      }
    }
  };

  return {
    write(chunk: Buffer): Promise<void> {
      if (finished) return Promise.reject(new Error('StructureParser.write() after finish()'));
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from((chunk as Uint8Array).buffer, (chunk as Uint8Array).byteOffset, (chunk as Uint8Array).byteLength);
      queue = queue.then(() => consume(buffer));
      return queue;
    },
    async finish(): Promise<MessageStructure> {
      finished = true;
      await queue;
      if (builder !== null) {
        try {
          const structure = builder.finish();
          if (structure.size === size) return structure;
        } catch {
          // fall through
        }
      }
      return wholeMessageAsText(size, lineFeeds, lastByte === 0x0a);
    },
  };
}

export async function parseStructure(source: Buffer | AsyncIterable<Buffer>): Promise<MessageStructure> {
  const parser = createStructureParser();
  if (Buffer.isBuffer(source)) {
    await parser.write(source);
  } else {
    for await (const chunk of source) await parser.write(chunk);
  }
  return parser.finish();
}
