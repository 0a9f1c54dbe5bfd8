// The one TLS policy every Postkeep listener uses (IMAP 143/993, SMTP 25/587/465,
// the admin HTTPS listener): TLS 1.2 and 1.3 only, forward-secret AEAD suites,
// the server's order, no renegotiation, no compression. Outbound SMTP to remote MX
// hosts does NOT use it: there any TLS is better than none (opportunistic STARTTLS,
// RFC 3207 §4), so src/smtp/outbound keeps the client defaults.
import { constants } from 'node:crypto';
import type * as tls from 'node:tls';

/** TLS 1.3 suites (all AEAD, all forward-secret by design, RFC 8446 §9.1). */
export const tls13CipherSuites = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/**
 * TLS 1.2 suites: ECDHE key exchange (forward secrecy) with AES-GCM or
 * ChaCha20-Poly1305 (AEAD) only; the ECDSA ones serve the default self-signed
 * P-256 certificate, the RSA ones a configured RSA certificate. No CBC, no static
 * RSA, no finite-field DHE.
 */
export const tls12Ciphers = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

/** Key-exchange groups, in preference order. */
export const ecdhCurves = ['X25519', 'P-256', 'P-384'];

/**
 * The policy part of every server context (no certificate): merge the current
 * certificate and key in (TlsCredentials.contextOptions does) before use.
 */
export function tlsPolicy(): tls.SecureContextOptions & { honorCipherOrder: boolean } {
  return {
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    // Node sends names starting with TLS_ to SSL_CTX_set_ciphersuites (TLS 1.3) and the rest to set_cipher_list (TLS 1.2).
    ciphers: [...tls13CipherSuites, ...tls12Ciphers].join(':'),
    honorCipherOrder: true,
    ecdhCurve: ecdhCurves.join(':'),
    // Renegotiation is refused outright (client-initiated renegotiation is a CPU DoS lever and nothing
    // here needs it); compression is off (CRIME). Server preference is also set by honorCipherOrder.
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION | constants.SSL_OP_NO_COMPRESSION | constants.SSL_OP_CIPHER_SERVER_PREFERENCE,
  };
}
