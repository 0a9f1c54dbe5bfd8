// SPF, DKIM, DMARC and ARC for mail arriving on the MX, verified by mailauth,
// reported in Authentication-Results (RFC 8601) and Received-SPF (RFC 7208 §9.1)
// fields placed on top of the message. Every DNS question goes to the injected
// resolver.
import { authenticate } from 'mailauth';
import type { Readable } from 'node:stream';
import type { DnsResolver } from './dns-resolver.js';

export interface AuthenticationVerdict {
  /** Header fields to prepend, each ending in CRLF. */
  headers: string;
  /** DMARC failed and the domain's policy is p=reject. */
  dmarcReject: boolean;
  summary: { spf: string; dkim: string[]; dmarc: string; arc: string };
  /** The domain SPF passed for (MAIL FROM's, or HELO's for a null sender), lower case; null unless spf=pass. */
  spfPassDomain: string | null;
  /** Signing domains (d=) of the DKIM signatures that verified, lower case. */
  dkimPassDomains: string[];
}

export async function verifyAuthentication(
  message: Readable,
  envelope: { ip: string; helo: string; sender: string; hostname: string; resolver: DnsResolver },
): Promise<AuthenticationVerdict> {
  const result = await authenticate(message, {
    ip: envelope.ip,
    helo: envelope.helo,
    sender: envelope.sender,
    mta: envelope.hostname,
    resolver: envelope.resolver as never,
    disableBimi: true,
  });
  const dmarc = result.dmarc ? (result.dmarc as { status?: { result?: string }; policy?: string }) : null;
  const dmarcResult = dmarc?.status?.result ?? 'none';
  const spf = result.spf ? (result.spf as { domain?: string; status?: { result?: string } }) : null;
  const dkimResults = (result.dkim?.results ?? []) as { signingDomain?: string; status?: { result?: string } }[];
  return {
    spfPassDomain: spf?.status?.result === 'pass' && spf.domain ? spf.domain.toLowerCase() : null,
    dkimPassDomains: dkimResults.flatMap((entry) => (entry.status?.result === 'pass' && entry.signingDomain ? [entry.signingDomain.toLowerCase()] : [])),
    headers: result.headers,
    dmarcReject: dmarcResult === 'fail' && dmarc?.policy === 'reject',
    summary: {
      spf: (result.spf as { status?: { result?: string } } | false) ? ((result.spf as { status: { result: string } }).status.result ?? 'none') : 'none',
      dkim: (result.dkim?.results ?? []).map((entry: { status?: { result?: string } }) => entry.status?.result ?? 'none'),
      dmarc: dmarcResult,
      arc: (result.arc as { status?: { result?: string } } | false) ? ((result.arc as { status: { result: string } }).status.result ?? 'none') : 'none',
    },
  };
}
