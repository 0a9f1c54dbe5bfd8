// TLS material: the configured certificate, or a self-signed one made on first
// start so that even a fresh install never speaks in the clear.
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import selfsigned from 'selfsigned';
import type { Logger } from '../log.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  selfSigned: boolean;
}

/** Days before its end at which the self-signed certificate is made again (at start). */
const renewSelfSignedDays = 30;

export async function ensureCertificate(options: { dataDir: string; hostname: string; certFile: string; keyFile: string; log: Logger }): Promise<TlsFiles> {
  if (options.certFile && options.keyFile) return { certFile: options.certFile, keyFile: options.keyFile, selfSigned: false };
  const directory = path.join(options.dataDir, 'tls');
  const certFile = path.join(directory, 'cert.pem');
  const keyFile = path.join(directory, 'key.pem');
  try {
    await fs.access(keyFile);
    const certificate = new X509Certificate(await fs.readFile(certFile));
    // A self-signed pair is ours to replace: a new one well before the old one expires,
    // and a new one when `hostname` changed (clients check the name they connect to).
    const namesHost = certificate.checkHost(options.hostname) !== undefined;
    const fresh = new Date(certificate.validTo).getTime() - Date.now() > renewSelfSignedDays * 86_400_000;
    if (fresh && namesHost) return { certFile, keyFile, selfSigned: true };
    if (!namesHost) options.log.warn('tls.self_signed_hostname_changed', { certFile, hostname: options.hostname, subjectAltName: certificate.subjectAltName ?? null });
    else options.log.warn('tls.self_signed_renewing', { certFile, validTo: new Date(certificate.validTo).toISOString() });
  } catch {
    // Not there yet (or unreadable): make one below.
  }
  await fs.mkdir(directory, { recursive: true, mode: 0o700 });
  const notAfter = new Date();
  notAfter.setFullYear(notAfter.getFullYear() + 2);
  const pems = await selfsigned.generate([{ name: 'commonName', value: options.hostname }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: options.hostname }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  await fs.writeFile(keyFile, pems.private, { mode: 0o600 });
  await fs.writeFile(certFile, pems.cert, { mode: 0o644 });
  options.log.info('tls.self_signed_created', { certFile, fingerprint: pems.fingerprint });
  return { certFile, keyFile, selfSigned: true };
}
