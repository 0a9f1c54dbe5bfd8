// The one DNS seam of the SMTP code: SPF/DKIM/DMARC/ARC checks (mailauth) and the
// outbound MX lookup both resolve through it, so tests hand in a fixed in-memory
// zone and never touch the network. Same contract as node's dns.promises.resolve:
// a missing name or record type rejects with code ENOTFOUND or ENODATA.
import { promises as dns } from 'node:dns';

export type DnsRecordType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'PTR' | 'CNAME' | 'NS';

export type DnsResolver = (name: string, type: string) => Promise<any[]>;

export const systemResolver: DnsResolver = (name, type) => dns.resolve(name, type as 'A') as Promise<any[]>;

/** An error a resolver throws for a name or record type that does not exist. */
export function dnsNotFound(name: string, type: string, code: 'ENOTFOUND' | 'ENODATA' = 'ENOTFOUND'): Error {
  return Object.assign(new Error(`query${type} ${code} ${name}`), { code, hostname: name });
}

/**
 * A resolver answering from a fixed zone: `{ 'example.org': { MX: [...], TXT: [['v=spf1 ...']] } }`.
 * Record shapes are node's: MX `{ exchange, priority }`, TXT `string[][]`, A/AAAA strings.
 */
export function staticResolver(zone: Record<string, Partial<Record<DnsRecordType, unknown[]>>>): DnsResolver {
  const lowered = new Map(Object.entries(zone).map(([name, records]) => [name.toLowerCase().replace(/\.$/, ''), records]));
  return async (name, type) => {
    const records = lowered.get(name.toLowerCase().replace(/\.$/, ''));
    if (!records) throw dnsNotFound(name, type);
    const answer = records[type as DnsRecordType];
    if (!answer || answer.length === 0) throw dnsNotFound(name, type, 'ENODATA');
    return answer as any[];
  };
}
