// AUTHENTICATE (RFC 9051 §6.2.2) with SASL-IR (RFC 4959), and the client's
// continuation lines during the exchange.
import type { CommandFrame } from './command-reader.js';
import { syntaxError, type Cursor } from './cursor.js';
import { ParseError } from './parse-error.js';
import type { Command } from './types.js';

// RFC 9051 §9: base64 = *(4base64-char) [base64-terminal]
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64(text: string): Buffer {
  if (!base64Pattern.test(text)) throw syntaxError('not valid base64');
  return Buffer.from(text, 'base64');
}

export function readAuthenticate(cursor: Cursor, tag: string): Extract<Command, { name: 'AUTHENTICATE' }> {
  cursor.space();
  const mechanism = cursor.atom('SASL mechanism').toUpperCase();
  let initialResponse: Buffer | null = null;
  if (cursor.trySpace()) {
    // RFC 4959 §3: "=" stands for an empty initial response.
    const text = cursor.atom('initial response');
    initialResponse = text === '=' ? Buffer.alloc(0) : decodeBase64(text);
  }
  cursor.end();
  return { tag, name: 'AUTHENTICATE', mechanism, initialResponse };
}

export type AuthenticateResponse = { cancel: true } | { cancel: false; data: Buffer };

/** A line the client sent in answer to a `+` during AUTHENTICATE: base64, or `*` to cancel (RFC 9051 §6.2.2). */
export function parseAuthenticateResponse(frame: CommandFrame): AuthenticateResponse | ParseError {
  if (frame.lines.length !== 1) return syntaxError('a SASL response cannot contain a literal');
  const text = frame.lines[0]!.toString('latin1');
  if (text === '*') return { cancel: true };
  if (!base64Pattern.test(text)) return syntaxError('SASL response is not valid base64');
  return { cancel: false, data: Buffer.from(text, 'base64') };
}

/** The line that ends IDLE (RFC 2177 §3, RFC 9051 §6.3.13). */
export function isIdleDone(frame: CommandFrame): boolean {
  return frame.lines.length === 1 && frame.lines[0]!.toString('latin1').toUpperCase() === 'DONE';
}
