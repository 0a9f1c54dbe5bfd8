// Reading an mbox file (mboxrd or mboxo), one message at a time: a file can be
// several gigabytes. Each message keeps its bytes exactly, minus the `From `
// separator line, the blank line a writer puts before the next one, and the
// `>From ` escaping.
import { createReadStream } from 'node:fs';
import { parseDate } from '../mime/date.js';

export interface MboxMessage {
  bytes: Buffer;
  flags: string[];
  internalDate: Date;
}

const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

// `From sender asctime`, as procmail, Postfix, mutt, Thunderbird and Google Takeout
// write it, with an optional zone before or after the year. Requiring the date is what
// tells a separator from an unescaped "From " that starts a line of text (mboxo).
const separatorPattern =
  /^From \S* +(?:(?:mon|tue|wed|thu|fri|sat|sun),? +)?([a-z]{3}) +(\d{1,2}) +(\d{1,2}):(\d{2})(?::(\d{2}))?(?: +([a-z]{1,5}|[+-]\d{4}))? +(\d{4})(?: +([+-]\d{4}))?\s*$/i;

/** The separator line's date, or null when the line is not a dated separator. */
function parseSeparator(line: string): Date | null {
  const match = separatorPattern.exec(line);
  if (!match) return null;
  const month = months.indexOf(match[1]!.toLowerCase());
  if (month < 0) return null;
  const zone = [match[6], match[8]].find((value) => value !== undefined && /^[+-]\d{4}$/.test(value));
  // RFC 4155 §2: the date is UTC unless it says otherwise.
  const offset = zone ? (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) : 0;
  return new Date(Date.UTC(Number(match[7]), month, Number(match[2]), Number(match[3]), Number(match[4]), Number(match[5] ?? 0)) - offset * 60_000);
}

const fromPrefix = Buffer.from('From ');

function isEscapedFrom(line: Buffer): boolean {
  let position = 0;
  while (position < line.length && line[position] === 0x3e /* > */) position++;
  return position > 0 && line.subarray(position, position + fromPrefix.length).equals(fromPrefix);
}

function isBlank(line: Buffer): boolean {
  return (line.length === 1 && line[0] === 0x0a) || (line.length === 2 && line[0] === 0x0d && line[1] === 0x0a);
}

/** The header fields (unfolded, lower-case names) up to the first blank line. */
function headerFields(lines: Buffer[]): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  let current: { name: string; value: string } | null = null;
  const keep = () => {
    if (current) fields.set(current.name, [...(fields.get(current.name) ?? []), current.value]);
  };
  for (const line of lines) {
    if (isBlank(line)) break;
    const text = line.toString('latin1').replace(/\r?\n$/, '');
    if (/^[ \t]/.test(text) && current) {
      current.value += text;
      continue;
    }
    keep();
    const colon = text.indexOf(':');
    current = colon > 0 ? { name: text.slice(0, colon).trim().toLowerCase(), value: text.slice(colon + 1).trim() } : null;
  }
  keep();
  return fields;
}

const statusLetters: Record<string, string> = { R: '\\Seen' };
const extendedStatusLetters: Record<string, string> = { A: '\\Answered', F: '\\Flagged', T: '\\Draft', D: '\\Deleted' };
// Thunderbird's X-Mozilla-Status bits.
const mozillaBits: [number, string][] = [[0x1, '\\Seen'], [0x2, '\\Answered'], [0x4, '\\Flagged'], [0x8, '\\Deleted']];

function flagsOf(fields: Map<string, string[]>): string[] {
  const flags = new Set<string>();
  const letters = (name: string, table: Record<string, string>) => {
    for (const value of fields.get(name) ?? []) for (const letter of value) if (table[letter]) flags.add(table[letter]);
  };
  // Status: O (old, no longer \Recent) has nothing to keep: \Recent is not stored.
  letters('status', statusLetters);
  letters('x-status', extendedStatusLetters);
  for (const value of fields.get('x-mozilla-status') ?? []) {
    const bits = Number.parseInt(value, 16);
    if (Number.isFinite(bits)) for (const [bit, flag] of mozillaBits) if (bits & bit) flags.add(flag);
  }
  for (const name of ['x-keywords', 'x-mozilla-keys']) {
    for (const value of fields.get(name) ?? []) for (const keyword of value.split(/[\s,]+/)) if (keyword !== '') flags.add(keyword);
  }
  return [...flags];
}

function finishMessage(lines: Buffer[], separatorDate: Date | undefined): MboxMessage | null {
  // The blank line before the next separator (or at the end of the file) belongs to the mbox, not the message.
  if (lines.length > 0 && isBlank(lines[lines.length - 1]!)) lines.pop();
  if (lines.length === 0) return null;
  const fields = headerFields(lines);
  const headerDate = parseDate(fields.get('date')?.[0] ?? null);
  const internalDate = separatorDate ?? (headerDate === null ? new Date() : new Date(headerDate));
  return { bytes: Buffer.concat(lines), flags: flagsOf(fields), internalDate };
}

/** The file's messages in order. The caller checked that the file starts with `From `. */
export async function* readMbox(file: string): AsyncGenerator<MboxMessage> {
  let lines: Buffer[] = [];
  let separatorDate: Date | undefined;
  let started = false;
  let previousBlank = false;
  // A line cut by a chunk boundary, in pieces, so a very long line is joined once.
  let partial: Buffer[] = [];

  const takeLine = (line: Buffer): MboxMessage | null => {
    if (line[0] === 0x46 /* F */ && line.subarray(0, fromPrefix.length).equals(fromPrefix)) {
      const text = line.toString('latin1').replace(/\r?\n$/, '');
      const separator = parseSeparator(text);
      // A separator with no date at all is only believed after the blank line that ends a message.
      if (separator || !started || (previousBlank && /^From \S+ *$/.test(text))) {
        const finished = started ? finishMessage(lines, separatorDate) : null;
        started = true;
        lines = [];
        previousBlank = false;
        separatorDate = separator ?? undefined;
        return finished;
      }
    }
    previousBlank = isBlank(line);
    // mboxrd: every `>*From ` line had one `>` added when it was written.
    lines.push(line[0] === 0x3e && isEscapedFrom(line) ? line.subarray(1) : line);
    return null;
  };

  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(0x0a, start);
      if (end < 0) break;
      let line = chunk.subarray(start, end + 1);
      if (partial.length > 0) {
        line = Buffer.concat([...partial, line]);
        partial = [];
      }
      start = end + 1;
      const message = takeLine(line);
      if (message) yield message;
    }
    if (start < chunk.length) partial.push(chunk.subarray(start));
  }
  if (partial.length > 0) {
    const message = takeLine(Buffer.concat(partial));
    if (message) yield message;
  }
  if (started) {
    const message = finishMessage(lines, separatorDate);
    if (message) yield message;
  }
}
