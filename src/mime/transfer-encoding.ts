// Content-Transfer-Encoding decoding (RFC 2045 §6): what IMAP BINARY[] serves
// (RFC 3516) and what SEARCH looks inside (RFC 9051 §6.4.4).

/** RFC 2045 §6.7: "=XX" is one byte, "=" at a line's end is a soft line break, trailing white space is padding. */
export function decodeQuotedPrintable(bytes: Buffer): Buffer {
  const lines = bytes.toString('latin1').split(/\r?\n/);
  let text = '';
  lines.forEach((raw, index) => {
    const line = raw.replace(/[ \t]+$/, '');
    if (line.endsWith('=')) text += line.slice(0, -1);
    else text += line + (index < lines.length - 1 ? '\r\n' : '');
  });
  const out = Buffer.alloc(text.length);
  let length = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (char === 0x3d && /^[0-9A-Fa-f]{2}$/.test(text.slice(index + 1, index + 3))) {
      out[length++] = parseInt(text.slice(index + 1, index + 3), 16);
      index += 2;
    } else {
      out[length++] = char;
    }
  }
  return out.subarray(0, length);
}

/** RFC 2045 §6.8: characters outside the alphabet are ignored. */
export function decodeBase64(bytes: Buffer): Buffer {
  return Buffer.from(bytes.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
}

/** The body with its encoding removed; null for an encoding this server does not know (RFC 3516 §4 UNKNOWN-CTE). */
export function decodeTransferEncoding(body: Buffer, encoding: string): Buffer | null {
  switch (encoding.toLowerCase()) {
    case '7bit': case '8bit': case 'binary': return body;
    case 'base64': return decodeBase64(body);
    case 'quoted-printable': return decodeQuotedPrintable(body);
    default: return null;
  }
}
