// Where a message's header section ends, read the way the store's MIME parser
// (src/mime/parser.ts) reads it: lines end at LF (a CR before it belongs to the
// terminator), and the first line with nothing before its terminator ends the
// header section (RFC 5322 §2.1). "\n\r\n" is such an empty line too, which a
// search for "\r\n\r\n" or "\n\n" alone misses.

/**
 * The offset just past the empty line that ends the header section in `head`,
 * or null when `head` holds no empty line.
 */
export function headerSectionEnd(head: Buffer): number | null {
  let lineStart = 0;
  while (lineStart < head.length) {
    if (head[lineStart] === 0x0a) return lineStart + 1;
    if (head[lineStart] === 0x0d && head[lineStart + 1] === 0x0a) return lineStart + 2;
    const lineFeed = head.indexOf(0x0a, lineStart);
    if (lineFeed < 0) return null;
    lineStart = lineFeed + 1;
  }
  return null;
}
