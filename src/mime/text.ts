// Header bytes are handled internally as "binary" (latin1) strings, which map
// each byte to one UTF-16 unit and back without loss (boundaries must match
// byte for byte). Text leaving the parser is UTF-8 when the bytes are valid
// UTF-8 (RFC 6532 headers), latin1 otherwise.

import libmime from 'libmime';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function binaryToText(binary: string): string {
  // Pure ASCII is the common case and needs no conversion.
  if (!/[\x80-\xff]/.test(binary)) return binary;
  const bytes = Buffer.from(binary, 'latin1');
  try {
    return utf8.decode(bytes);
  } catch {
    return binary;
  }
}

/** RFC 5322 §2.2.3: unfolding removes the CRLF that precede whitespace; we already dropped line ends, so just trim. */
export function cleanValue(binary: string): string {
  return binary.replace(/^[ \t]+|[ \t\r\n]+$/g, '');
}

/** RFC 2047 encoded-words decoded (any charset libmime knows); the text unchanged when they are malformed. */
export function decodeEncodedWords(text: string): string {
  if (!text.includes('=?')) return text;
  try {
    return libmime.decodeWords(text);
  } catch {
    return text;
  }
}
