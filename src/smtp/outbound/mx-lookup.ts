// Where mail for a domain goes (RFC 5321 §5.1): its MX hosts by preference, or
// the domain itself (A/AAAA) when it has no MX; a null MX (RFC 7505) means the
// domain takes no mail at all.
import type { DnsResolver } from '../dns-resolver.js';

export type MxRoute = { hosts: string[] } | { permanentError: string } | { temporaryError: string };

const absent = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

export async function lookupMx(resolver: DnsResolver, domain: string): Promise<MxRoute> {
  let records: { exchange: string; priority: number }[] = [];
  try {
    records = (await resolver(domain, 'MX')) as { exchange: string; priority: number }[];
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (!absent.has(code)) return { temporaryError: `MX lookup for ${domain} failed: ${code || String(error)}` };
  }
  if (records.length === 1 && (records[0]!.exchange === '' || records[0]!.exchange === '.')) return { permanentError: `${domain} accepts no mail (null MX, RFC 7505)` };
  if (records.length > 0) {
    return { hosts: [...records].sort((a, b) => a.priority - b.priority).map((record) => record.exchange.replace(/\.$/, '')) };
  }
  return { hosts: [domain] };
}

/** The addresses of one MX host, IPv4 then IPv6. */
export async function resolveHost(resolver: DnsResolver, host: string): Promise<string[]> {
  const addresses: string[] = [];
  let temporary: unknown = null;
  for (const type of ['A', 'AAAA']) {
    try {
      addresses.push(...((await resolver(host, type)) as string[]));
    } catch (error) {
      if (!absent.has((error as NodeJS.ErrnoException).code ?? '')) temporary = error;
    }
  }
  if (addresses.length === 0 && temporary) throw temporary;
  return addresses;
}
