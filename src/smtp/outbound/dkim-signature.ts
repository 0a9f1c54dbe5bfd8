// DKIM signing (RFC 6376) of outgoing mail with the sending domain's key, and
// the key pair `postkeep dkim generate` makes (RSA 2048, RFC 8301 §3.2).
import { generateKeyPairSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import type { DkimKeyStore } from '../../store/types.js';

/** The DKIM-Signature field(s) to prepend, ending in CRLF; empty when the domain has no key. */
export async function dkimSignatureFor(keys: DkimKeyStore, domain: string, message: AsyncIterable<Buffer>): Promise<string> {
  const key = await keys.get(domain);
  if (!key) return '';
  const result = await dkimSign(Readable.from(message), {
    canonicalization: 'relaxed/relaxed',
    algorithm: 'rsa-sha256',
    signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey }],
  } as never);
  if (result.errors?.length || !/^DKIM-Signature:/i.test(result.signatures)) throw new Error(`DKIM signing failed for ${domain}: ${result.errors.map((error: { error?: string; message?: string }) => error.error ?? error.message).join('; ')}`);
  return result.signatures;
}

export function generateDkimKey(): { privateKey: string; publicKeyBase64: string } {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKeyBase64 = pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return { privateKey, publicKeyBase64 };
}

/** The TXT record to publish at `<selector>._domainkey.<domain>` (RFC 6376 §3.6.1). */
export function dkimTxtRecord(publicKeyBase64: string): string {
  return `v=DKIM1; k=rsa; p=${publicKeyBase64}`;
}
