// A DNS TXT value as zone-file text. One character-string holds at most 255 octets
// (RFC 1035 §3.3.14); a longer value, like an RSA-2048 DKIM key (about 410), is
// several strings that resolvers join back together (RFC 6376 §3.6.2.2), and a DNS
// control panel that takes one string at a time refuses the whole value at once.
const maxStringLength = 255;

/** `"…" "…"`: the value cut into quoted strings of at most 255 bytes each. */
export function quotedTxtStrings(value: string): string {
  // The values printed here (DKIM records) are ASCII without quotes or backslashes.
  if (!/^[\x20-\x7e]*$/.test(value) || /["\\]/.test(value)) throw new Error('a TXT value to print must be printable ASCII without quotes or backslashes');
  const strings: string[] = [];
  for (let start = 0; start < value.length; start += maxStringLength) strings.push(`"${value.slice(start, start + maxStringLength)}"`);
  return strings.length === 0 ? '""' : strings.join(' ');
}
