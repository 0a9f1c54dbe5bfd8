// The key under which connections from one client are counted (DESIGN.md invariant 7).
// An IPv4 address is one client. An IPv6 client usually holds a whole /64 (RFC 4291
// §2.5.4: interface identifiers are 64 bits; a site gets at least a /64 from its
// provider, RFC 6177), so counting single IPv6 addresses would let one host pick a
// new address per connection: they are grouped by their first 64 bits. An
// IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, RFC 4291 §2.5.5.2, what a dual-stack
// listener reports for an IPv4 peer) is the IPv4 address it maps.
import * as net from 'node:net';

export function addressGroup(address: string): string {
  // A zone index (`fe80::1%eth0`, RFC 6874) names the local interface, not the peer.
  const bare = address.split('%')[0]!.toLowerCase();
  if (net.isIPv4(bare)) return bare;
  if (!net.isIPv6(bare)) return bare;
  const groups = ipv6Groups(bare);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail converted). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const parse = (part: string | null | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const front = parse(head);
  const back = parse(tail);
  const zeros = tail === null ? 0 : 8 - front.length - back.length;
  return [...front, ...new Array<number>(zeros).fill(0), ...back];
}
