// What every SMTP listener shares: the store, limits, TLS material, the DNS seam
// and the hooks common to MX and submission (connection limits, message rate,
// the DATA spool).
import * as path from 'node:path';
import type { SMTPServerOptions, SMTPServerSession, SMTPServerDataStream } from 'smtp-server';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { TlsCredentials } from '../server/tls-credentials.js';
import type { MailStore } from '../store/types.js';
import type { DnsResolver } from './dns-resolver.js';
import { MessageSpool } from './message-spool.js';
import { ConnectionLimit, MessageRateLimit } from './rate-limit.js';
import { SmtpReply } from './smtp-reply.js';

export type SmtpConfig = Config['smtp'];

export interface SmtpContext {
  store: MailStore;
  log: Logger;
  hostname: string;
  dataDir: string;
  config: SmtpConfig;
  outbound: Config['outbound'];
  /** The pair in service and the TLS policy (src/server/tls-policy.ts). */
  tls: TlsCredentials;
  resolver: DnsResolver;
  connections: ConnectionLimit;
  messageRate: MessageRateLimit;
  /** Called after a message was queued for remote delivery (wakes the queue runner). */
  queued(): void;
}

/** Options and hooks every listener uses; the role adds AUTH, RCPT and DATA. */
export function commonOptions(context: SmtpContext, role: 'mx' | 'submission' | 'submissions'): SMTPServerOptions {
  const counted = new Set<string>();
  return {
    // Read by the init() that greeting-delay.ts installs.
    ...({ greetingDelay: context.config[role].greetingDelayMilliseconds } as object),
    name: context.hostname,
    banner: 'Postkeep',
    ...context.tls.contextOptions(),
    size: context.config.maxMessageSize,
    maxRecipients: context.config.maxRecipients,
    maxClients: context.config.maxConnections,
    socketTimeout: context.config.idleTimeoutSeconds * 1000,
    closeTimeout: 5_000,
    hideENHANCEDSTATUSCODES: false,
    hidePIPELINING: false,
    hide8BITMIME: false,
    hideSMTPUTF8: false,
    // The PTR lookup is what delays smtp-server's banner (up to 1.5 s); off by
    // default, and through the injected resolver when on.
    disableReverseLookup: !context.config.reverseLookup,
    resolver: {
      reverse: (ip, callback) => {
        context.resolver(ip.split('.').reverse().join('.') + '.in-addr.arpa', 'PTR').then(
          (names) => callback(null, names as string[]),
          (error: Error) => callback(error),
        );
      },
    },
    logger: false,
    onConnect(session, callback) {
      if (!context.connections.tryAcquire(session.remoteAddress)) {
        context.log.warn('smtp.rejected', { role, reason: 'connections_per_ip', remoteAddress: session.remoteAddress });
        return callback(new SmtpReply(421, '4.7.0', 'Too many connections from your address, try again later'));
      }
      counted.add(session.id);
      callback();
    },
    onClose(session) {
      if (counted.delete(session.id)) context.connections.release(session.remoteAddress);
    },
  };
}

/** MAIL FROM's per-IP message rate (450 4.7.1), common to every role. */
export function checkMessageRate(context: SmtpContext, session: SMTPServerSession, role: string): void {
  if (!context.messageRate.tryTake(session.remoteAddress)) {
    context.log.warn('smtp.rejected', { role, reason: 'message_rate', remoteAddress: session.remoteAddress });
    throw new SmtpReply(450, '4.7.1', 'Too many messages from your address, try again later');
  }
}

/** Takes the DATA stream into a spool; an oversized message is refused (552 5.3.4). */
export async function receiveData(context: SmtpContext, stream: SMTPServerDataStream): Promise<MessageSpool> {
  const spool = await MessageSpool.receive(stream, { directory: path.join(context.dataDir, 'tmp', 'smtp') });
  if (stream.sizeExceeded) {
    await spool.dispose();
    throw new SmtpReply(552, '5.3.4', `Message size exceeds the fixed maximum of ${context.config.maxMessageSize} bytes`);
  }
  return spool;
}

/** Wraps an async hook so every outcome, thrown or returned, reaches smtp-server's callback. */
export function hook<A extends unknown[]>(
  context: SmtpContext,
  role: string,
  work: (...args: A) => Promise<string | void>,
): (...args: [...A, (error?: Error | null, message?: string) => void]) => void {
  return (...args) => {
    const callback = args.pop() as (error?: Error | null, message?: string) => void;
    work(...(args as unknown as A)).then(
      (message) => (message === undefined ? callback() : callback(null, message)),
      (error: Error) => {
        if (error instanceof SmtpReply) {
          context.log.info('smtp.rejected', { role, code: error.responseCode, reply: error.message });
          return callback(error);
        }
        context.log.error('smtp.internal_error', { role, error: String(error), stack: (error as Error).stack });
        callback(new SmtpReply(451, '4.3.0', 'Local error in processing, try again later'));
      },
    );
  };
}

export function declaredSize(session: SMTPServerSession): number | undefined {
  const args = session.envelope.mailFrom ? session.envelope.mailFrom.args : false;
  if (!args || typeof args.SIZE !== 'string') return undefined;
  const size = Number(args.SIZE);
  return Number.isSafeInteger(size) && size >= 0 ? size : undefined;
}
