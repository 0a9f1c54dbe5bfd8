// IMAP's modified UTF-7 (RFC 3501 §5.1.3), the encoding Dovecot and Courier use for
// Maildir++ folder names, so that an imported "Entw&APw-rfe" becomes "Entwürfe".

const printable = /^[\x20-\x7e]$/;
const base64Run = /^[A-Za-z0-9+,]*$/;

export function encodeModifiedUtf7(text: string, alsoEncode = ''): string {
  let result = '';
  let pending = '';
  const flush = () => {
    if (pending === '') return;
    const units = Buffer.from(pending, 'utf16le').swap16();
    result += '&' + units.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-';
    pending = '';
  };
  for (const character of text) {
    if (printable.test(character) && !alsoEncode.includes(character)) {
      flush();
      result += character === '&' ? '&-' : character;
    } else {
      pending += character;
    }
  }
  flush();
  return result;
}

/** The decoded text, or null when `text` is not valid modified UTF-7 (then it is taken as it is). */
export function decodeModifiedUtf7(text: string): string | null {
  let result = '';
  let position = 0;
  while (position < text.length) {
    const start = text.indexOf('&', position);
    if (start < 0) {
      result += text.slice(position);
      break;
    }
    result += text.slice(position, start);
    const end = text.indexOf('-', start + 1);
    if (end < 0) return null;
    const run = text.slice(start + 1, end);
    position = end + 1;
    if (run === '') {
      result += '&';
      continue;
    }
    if (!base64Run.test(run) || run.length % 4 === 1) return null;
    const units = Buffer.from(run.replace(/,/g, '/'), 'base64');
    if (units.length % 2 !== 0) return null;
    const decoded = units.swap16().toString('utf16le');
    // A lone surrogate means the run was cut or made up.
    if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(decoded)) return null;
    result += decoded;
  }
  return result;
}

/**
 * The decoded text when `text` is the one encoding of it that RFC 3501 §5.1.3 allows
 * (RFC 9051 §5.1.3 keeps it): printable ASCII represents itself, "&" is "&-", a base64
 * run holds only other characters, runs are never adjacent ("-&" is a null shift) and
 * leave no stray bits. Else null: a name like "&AC4ALgAv-" ("../" in base64) would show
 * one thing and be another.
 */
export function decodeCanonicalModifiedUtf7(text: string): string | null {
  const decoded = decodeModifiedUtf7(text);
  return decoded !== null && encodeModifiedUtf7(decoded) === text ? decoded : null;
}
