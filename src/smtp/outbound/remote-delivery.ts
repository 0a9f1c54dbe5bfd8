// One delivery attempt of one queued message to one domain: try its MX hosts in
// order, speak SMTP with opportunistic STARTTLS (RFC 3207: a certificate that does
// not verify still beats cleartext), and report per recipient: sent, deferred (4xx,
// no connection) or failed (5xx).
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Readable } from 'node:stream';
import type { DnsResolver } from '../dns-resolver.js';
import { lookupMx, resolveHost } from './mx-lookup.js';

export type RecipientResult = { address: string; outcome: 'sent' } | { address: string; outcome: 'deferred' | 'failed'; error: string };

export interface RemoteDeliveryOptions {
  resolver: DnsResolver;
  hostname: string;
  port: number;
  timeoutMilliseconds: number;
}

export async function deliverToDomain(
  domain: string,
  envelope: { sender: string; recipients: readonly string[]; size: number },
  openMessage: () => Promise<Readable>,
  options: RemoteDeliveryOptions,
): Promise<RecipientResult[]> {
  const all = (outcome: 'deferred' | 'failed', error: string): RecipientResult[] => envelope.recipients.map((address) => ({ address, outcome, error }));
  const route = await lookupMx(options.resolver, domain);
  if ('permanentError' in route) return all('failed', route.permanentError);
  if ('temporaryError' in route) return all('deferred', route.temporaryError);
  let lastError = `no address found for the MX hosts of ${domain}`;
  for (const host of route.hosts) {
    let addresses: string[];
    try {
      addresses = await resolveHost(options.resolver, host);
    } catch (error) {
      lastError = `address lookup for ${host} failed: ${String(error)}`;
      continue;
    }
    for (const address of addresses) {
      const attempt = await sendTo(address, host, envelope, openMessage, options);
      // A reply from a server (any code) settles the attempt; only no connection tries the next host.
      if (attempt.kind === 'replied') return attempt.results;
      lastError = `${host} [${address}]: ${attempt.error}`;
    }
  }
  return all('deferred', lastError);
}

type Attempt = { kind: 'replied'; results: RecipientResult[] } | { kind: 'unreachable'; error: string };

function sendTo(
  address: string,
  host: string,
  envelope: { sender: string; recipients: readonly string[]; size: number },
  openMessage: () => Promise<Readable>,
  options: RemoteDeliveryOptions,
): Promise<Attempt> {
  return new Promise((resolve) => {
    let settled = false;
    const connection = new SMTPConnection({
      host: address,
      port: options.port,
      name: options.hostname,
      opportunisticTLS: true,
      tls: { rejectUnauthorized: false, servername: /^[\d.:]+$/.test(host) ? undefined : host },
      connectionTimeout: options.timeoutMilliseconds,
      greetingTimeout: options.timeoutMilliseconds,
      socketTimeout: options.timeoutMilliseconds,
      logger: false,
    });
    const finish = (attempt: Attempt) => {
      if (settled) return;
      settled = true;
      try {
        connection.quit();
      } catch {
        connection.close();
      }
      resolve(attempt);
    };
    connection.once('error', (error: Error & { responseCode?: number }) => {
      if (error.responseCode) finish({ kind: 'replied', results: envelope.recipients.map((recipient) => classify(recipient, error.responseCode!, error.message)) });
      else finish({ kind: 'unreachable', error: error.message });
    });
    connection.connect(() => {
      openMessage().then(
        (message) => {
          message.once('error', (error) => finish({ kind: 'unreachable', error: `reading the queued message failed: ${error.message}` }));
          connection.send({ from: envelope.sender || false, to: [...envelope.recipients], size: envelope.size }, message, (error, info) => {
            if (error) {
              const failure = error as Error & { responseCode?: number; rejected?: string[]; rejectedErrors?: (Error & { responseCode?: number; recipient?: string })[] };
              if (!failure.responseCode) return finish({ kind: 'unreachable', error: failure.message });
              return finish({ kind: 'replied', results: envelope.recipients.map((recipient) => classify(recipient, failure.responseCode!, failure.message)) });
            }
            const rejected = new Map<string, { code: number; message: string }>();
            for (const entry of info!.rejectedErrors ?? []) {
              const failure = entry as Error & { responseCode?: number; recipient?: string };
              if (failure.recipient) rejected.set(failure.recipient, { code: failure.responseCode ?? 450, message: failure.message });
            }
            finish({
              kind: 'replied',
              results: envelope.recipients.map((recipient): RecipientResult => {
                const refusal = rejected.get(recipient);
                if (refusal) return classify(recipient, refusal.code, refusal.message);
                if (info!.accepted.includes(recipient)) return { address: recipient, outcome: 'sent' };
                return { address: recipient, outcome: 'deferred', error: 'the server neither accepted nor refused the recipient' };
              }),
            });
          });
        },
        (error: Error) => finish({ kind: 'unreachable', error: `opening the queued message failed: ${error.message}` }),
      );
    });
  });
}

function classify(address: string, code: number, message: string): RecipientResult {
  return { address, outcome: code >= 500 ? 'failed' : 'deferred', error: message };
}
