// Parses MIME header values of the form `value *(";" name "=" value)`
// (RFC 2045 §5.1 Content-Type, RFC 2183 Content-Disposition) from a binary
// string, keeping parameter values raw as IMAP sends them in BODYSTRUCTURE.
// RFC 2231 continuations are joined; an extended (charset'language'…) value
// stays percent-encoded under the name `name*`.

import { MAX_PARAMETERS } from './limits.js';

export interface ParsedValue {
  value: string; // lower-cased, comments and whitespace removed
  params: [string, string][];
}

interface Segment {
  index: number;
  encoded: boolean;
  value: string;
}

export function parseParameterizedValue(input: string): ParsedValue {
  const text = stripComments(input);
  let position = 0;
  const semicolon = findUnquoted(text, ';', 0);
  const value = text.slice(0, semicolon).replace(/\([^)]*\)?/g, '').replace(/\s+/g, '').toLowerCase();
  position = semicolon;

  const order: string[] = [];
  const plain = new Map<string, string>();
  const segmented = new Map<string, Segment[]>();
  let count = 0;

  while (position < text.length && count < MAX_PARAMETERS * 4) {
    position++; // skip ';'
    const next = findUnquoted(text, ';', position);
    const piece = text.slice(position, next);
    position = next;
    const equals = piece.indexOf('=');
    if (equals === -1) continue;
    const rawName = piece.slice(0, equals).trim().toLowerCase();
    if (!rawName || /[\s"]/.test(rawName)) continue;
    const parameterValue = unquote(piece.slice(equals + 1).trim());
    count++;

    // RFC 2231 §3-4: name*N, name*N*, name*
    const match = /^(.+?)\*(?:(\d{1,3})\*?)?$/.exec(rawName);
    if (match) {
      const base = match[1];
      const index = match[2] === undefined ? 0 : Number(match[2]);
      const encoded = rawName.endsWith('*');
      let segments = segmented.get(base);
      if (!segments) {
        segments = [];
        segmented.set(base, segments);
        remember(order, base + '\u0000');
      }
      if (!segments.some((segment) => segment.index === index)) {
        segments.push({ index, encoded, value: parameterValue });
      }
    } else if (!plain.has(rawName)) {
      plain.set(rawName, parameterValue);
      remember(order, rawName);
    }
  }

  const params: [string, string][] = [];
  for (const key of order) {
    if (params.length >= MAX_PARAMETERS) break;
    if (key.endsWith('\u0000')) {
      const base = key.slice(0, -1);
      params.push(joinSegments(base, segmented.get(base)!));
    } else {
      params.push([key, plain.get(key)!]);
    }
  }
  return { value, params };
}

function remember(order: string[], key: string): void {
  if (!order.includes(key)) order.push(key);
}

/** RFC 2231 §3: segments are joined in index order; stop at the first gap. */
function joinSegments(base: string, segments: Segment[]): [string, string] {
  segments.sort((a, b) => a.index - b.index);
  const used: Segment[] = [];
  for (const segment of segments) {
    if (segment.index !== used.length) break;
    used.push(segment);
  }
  if (used.length === 0) used.push(segments[0]);
  const encoded = used[0].encoded;
  if (!encoded) {
    // The first segment decides: an unencoded start means no charset, so the
    // value is plain text (RFC 2231 §4 puts charset'language' in segment 0).
    return [base, used.map((segment) => (segment.encoded ? percentDecodeLoosely(segment.value) : segment.value)).join('')];
  }
  return [base + '*', used.map((segment) => (segment.encoded ? segment.value : percentEncode(segment.value))).join('')];
}

function percentEncode(value: string): string {
  // RFC 2231 §7 attribute-char: any CHAR except SPACE, CTLs, "*", "'", "%", tspecials.
  return value.replace(/[^A-Za-z0-9!#$&+\-.^_`{|}~]/g, (character) => {
    const code = character.charCodeAt(0);
    return '%' + (code < 16 ? '0' : '') + code.toString(16).toUpperCase();
  });
}

function percentDecodeLoosely(value: string): string {
  return value.replace(/%([0-9a-fA-F]{2})/g, (_all, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value.trim();
  let result = '';
  for (let i = 1; i < value.length; i++) {
    const character = value[i];
    if (character === '\\' && i + 1 < value.length) {
      result += value[++i];
    } else if (character === '"') {
      break;
    } else {
      result += character;
    }
  }
  return result;
}

/** Index of the next `needle` outside a quoted string, or text.length. */
function findUnquoted(text: string, needle: string, from: number): number {
  let quoted = false;
  for (let i = from; i < text.length; i++) {
    const character = text[i];
    if (quoted) {
      if (character === '\\') i++;
      else if (character === '"') quoted = false;
    } else if (character === '"') {
      quoted = true;
    } else if (character === needle) {
      return i;
    }
  }
  return text.length;
}

/**
 * RFC 2045 §5.1 allows RFC 822 comments in these fields. A "(" directly after
 * "=" or inside a token continues the token (`name=Invoice(1).pdf` is common
 * in the wild); a comment starts after whitespace, ";" or at the start.
 */
function stripComments(text: string): string {
  let result = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const character = text[i];
    if (quoted) {
      result += character;
      if (character === '\\' && i + 1 < text.length) result += text[++i];
      else if (character === '"') quoted = false;
      continue;
    }
    if (character === '"') {
      quoted = true;
      result += character;
      continue;
    }
    const previous = result.length > 0 ? result[result.length - 1] : '';
    if (character === '(' && (previous === '' || previous === ' ' || previous === '\t' || previous === ';')) {
      let depth = 1;
      i++;
      for (; i < text.length && depth > 0; i++) {
        if (text[i] === '\\') i++;
        else if (text[i] === '(') depth++;
        else if (text[i] === ')') depth--;
      }
      i--;
      result += ' ';
      continue;
    }
    result += character;
  }
  return result;
}
