// Starts the configured SMTP listeners (MX, submission, submissions) and the
// outbound queue runner, and stops them again.
import * as fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { SMTPServer } from 'smtp-server';
import type { Config } from '../config/schema.js';
import { PostkeepError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MailStore } from '../store/types.js';
import { TlsCredentials } from '../server/tls-credentials.js';
import { systemResolver, type DnsResolver } from './dns-resolver.js';
import { installCommandLineEnds } from './command-line-ends.js';
import { installDataCommandHook } from './data-command-hook.js';
import { installGreetingDelayOption } from './greeting-delay.js';
import { createMxServer } from './mx-server.js';
import { QueueRunner } from './outbound/queue-runner.js';
import { MessageRateLimit } from './rate-limit.js';
import { ConnectionGate, refusalLingerMilliseconds } from '../server/connection-gate.js';
import { limitHandshakeTime } from './handshake-deadline.js';
import { skipUpgradeOfClosedSockets } from './upgrade-guard.js';
import { limitTimeBeforeAuthentication } from './authentication-deadline.js';
import type { SmtpContext } from './smtp-context.js';
import { installEnhancedCodePassThrough } from './smtp-reply.js';
import { PostmasterRoute } from './postmaster.js';
import { SpoolBudget } from './spool-budget.js';
import { createSubmissionServer } from './submission-server.js';

export type ListenerRole = 'mx' | 'submission' | 'submissions';

export interface SmtpService {
  /** The bound address of each enabled listener (the real port when the config said 0). */
  listeners: Partial<Record<ListenerRole, AddressInfo>>;
  queue: QueueRunner;
  stop(): Promise<void>;
}

export interface SmtpServiceOptions {
  /** The DNS seam; the system resolver unless a test hands in a fixed zone. */
  resolver?: DnsResolver;
}

export async function startSmtpService(
  config: Config,
  store: MailStore,
  tls: TlsCredentials | { certFile: string; keyFile: string },
  log: Logger,
  options: SmtpServiceOptions = {},
): Promise<SmtpService> {
  // One count over MX, submission and submissions, taken at accept (before TLS on 465).
  const gate = new ConnectionGate({ protocol: 'smtp', log, maxConnections: config.smtp.maxConnections, maxConnectionsPerAddress: config.smtp.maxConnectionsPerIp });
  const graceMilliseconds = config.shutdown.graceSeconds * 1000;
  installEnhancedCodePassThrough();
  installGreetingDelayOption();
  installCommandLineEnds();
  installDataCommandHook();
  const resolver = options.resolver ?? systemResolver;
  // DATA spool files a crash left behind were never acknowledged.
  await fs.rm(path.join(config.dataDir, 'tmp', 'smtp'), { recursive: true, force: true });
  const queue = new QueueRunner({ store, log, hostname: config.hostname, resolver, settings: config.outbound });
  const context: SmtpContext = {
    store,
    log,
    hostname: config.hostname,
    dataDir: config.dataDir,
    config: config.smtp,
    outbound: config.outbound,
    tls: tls instanceof TlsCredentials ? tls : TlsCredentials.load(tls, log),
    resolver,
    messageRate: new MessageRateLimit(config.smtp.maxMessagesPerIpPerMinute),
    spoolBudget: new SpoolBudget(config.smtp.spoolLimit),
    postmaster: new PostmasterRoute(store, config.smtp.postmasterAccount, log),
    queued: () => queue.wake(),
  };
  const servers: { role: ListenerRole; server: SMTPServer }[] = [];
  // A reloaded pair reaches every listener's next handshake, STARTTLS and implicit TLS alike.
  const unfollow = context.tls.onChange((credentials) => {
    const { cert, key } = credentials.contextOptions();
    for (const { server } of servers) server.updateSecureContext({ cert, key });
  });
  const listeners: SmtpService['listeners'] = {};
  const stopAll = async () => {
    unfollow();
    const closing = Promise.all(servers.map(({ server }) => new Promise<void>((resolve) => server.close(() => resolve()))));
    // smtp-server answers 421 and closes its sessions at closeTimeout (the grace); what
    // has not gone a moment later (a peer that never reads, a half-open socket) is destroyed.
    await gate.drain(graceMilliseconds + refusalLingerMilliseconds);
    await closing;
  };
  try {
    for (const role of ['mx', 'submission', 'submissions'] as const) {
      const settings = config.smtp[role];
      if (!settings.enabled) continue;
      const server = role === 'mx' ? createMxServer(context) : createSubmissionServer(context, { implicitTls: role === 'submissions' });
      server.on('error', (error) => log.error('smtp.listener_error', { role, error: String(error) }));
      // Replies are small writes; Nagle's algorithm would hold one back behind the client's delayed ACK.
      server.server.on('connection', (socket: import('node:net').Socket) => socket.setNoDelay(true));
      // smtp-server reads 0 as its default (30 s).
      server.options.closeTimeout = Math.max(1, graceMilliseconds);
      if (role === 'submissions') {
        limitHandshakeTime(server, config.smtp.handshakeTimeoutSeconds * 1000, log, role);
        skipUpgradeOfClosedSockets(server);
      }
      if (role !== 'mx') limitTimeBeforeAuthentication(server, config.smtp.preAuthenticationTimeoutSeconds * 1000, log, role);
      // Last, so every 'connection' listener above runs only for admitted sockets.
      gate.guard(server.server, { refusal: role === 'submissions' ? null : '421 4.7.0 Too many connections from your address, try again later\r\n' });
      await new Promise<void>((resolve, reject) => {
        const fail = (error: Error) => reject(new PostkeepError('smtp.listen_failed', `cannot listen for SMTP ${role} on ${settings.host}:${settings.port}: ${error.message}`));
        server.server.once('error', fail);
        server.listen(settings.port, settings.host, () => {
          server.server.off('error', fail);
          resolve();
        });
      });
      servers.push({ role, server });
      listeners[role] = server.server.address() as AddressInfo;
      log.info('smtp.listening', { role, host: listeners[role]!.address, port: listeners[role]!.port });
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  queue.start();
  return {
    listeners,
    queue,
    async stop() {
      // The listeners close at once, not after the outbound deliveries in progress.
      await Promise.all([queue.stop(), stopAll()]);
    },
  };
}
