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
import { MessageRateLimit } from './rate-limit.js';
import { SmtpReply, storageFailureReply } from './smtp-reply.js';
import { storageFailure } from '../store/storage-failure.js';
import { minimumDataRoom, type SpoolBudget } from './spool-budget.js';
import type { PostmasterRoute } from './postmaster.js';

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
  messageRate: MessageRateLimit;
  /** Bytes of DATA held at once over every connection (smtp.spoolLimit). */
  spoolBudget: SpoolBudget;
  /** Where postmaster@ of a local domain goes when no account or alias has it (RFC 5321 §4.5.1). */
  postmaster: PostmasterRoute;
  /** Called after a message was queued for remote delivery (wakes the queue runner). */
  queued(): void;
}

/** Options and hooks every listener uses; the role adds AUTH, RCPT and DATA. */
export function commonOptions(context: SmtpContext, role: 'mx' | 'submission' | 'submissions'): SMTPServerOptions {
  return {
    // Read by the init() that greeting-delay.ts installs.
    ...({ greetingDelay: context.config[role].greetingDelayMilliseconds } as object),
    // Read by the DATA handler that data-command-hook.ts installs.
    ...({ onDataCommand: (session: SMTPServerSession) => checkSpoolRoom(context, session) } as object),
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
    // Connections per address are counted at accept, before TLS, over every SMTP
    // listener (src/server/connection-gate.ts, wired in smtp-service.ts).
    onConnect(_session, callback) {
      callback();
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

/**
 * Takes the DATA stream into a spool. An oversized message is refused (552
 * 5.3.4) and one the shared spool has no room for is deferred (452 4.3.1), both
 * after the final dot and with none of their bytes kept past the limit.
 */
export async function receiveData(context: SmtpContext, stream: SMTPServerDataStream, session: SMTPServerSession): Promise<MessageSpool> {
  const outcome = await MessageSpool.receive(stream, {
    directory: path.join(context.dataDir, 'tmp', 'smtp'),
    maxSize: context.config.maxMessageSize,
    budget: context.spoolBudget,
  });
  if (outcome.kind === 'received' && !stream.sizeExceeded) return outcome.spool;
  if (outcome.kind === 'received') await outcome.spool.dispose();
  if (outcome.kind === 'spool_full') {
    context.log.warn('smtp.spool_full', { session: session.id, remoteAddress: session.remoteAddress, size: outcome.size, used: context.spoolBudget.used, limit: context.spoolBudget.limit });
    throw spoolFullReply();
  }
  context.log.info('smtp.message_too_large', { session: session.id, remoteAddress: session.remoteAddress, size: stream.byteLength, limit: context.config.maxMessageSize });
  throw new SmtpReply(552, '5.3.4', `Message size exceeds the fixed maximum of ${context.config.maxMessageSize} bytes`);
}

/** RFC 3463 X.3.1 "mail system full": transient, the client tries again later. */
function spoolFullReply(): SmtpReply {
  return new SmtpReply(452, '4.3.1', 'Insufficient system storage, try again later');
}

/**
 * Before the 354 of DATA: with less free spool than the declared SIZE (RFC 1870
 * §6.1) or than a small floor, the message is deferred at once instead of after
 * an upload that could not be kept.
 */
export function checkSpoolRoom(context: SmtpContext, session: SMTPServerSession): SmtpReply | null {
  const needed = Math.max(minimumDataRoom, declaredSize(session) ?? 0);
  if (context.spoolBudget.free >= needed) return null;
  context.log.warn('smtp.spool_full', { session: session.id, remoteAddress: session.remoteAddress, used: context.spoolBudget.used, limit: context.spoolBudget.limit, atData: true });
  return spoolFullReply();
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
        // A full, read-only or failing disk is the operator's to fix: the client only learns "not now".
        const failure = storageFailure(error instanceof SmtpReply ? error.cause : error);
        if (failure) context.log.error('smtp.storage_failed', { role, failure, error: String(error instanceof SmtpReply ? error.cause : error) });
        if (error instanceof SmtpReply) {
          context.log.info('smtp.rejected', { role, code: error.responseCode, reply: error.message });
          return callback(error);
        }
        if (failure) return callback(storageFailureReply(error)!);
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
