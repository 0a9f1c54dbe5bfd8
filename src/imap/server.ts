// The IMAP listeners: a STARTTLS port and an implicit-TLS port (RFC 8314 §3.3), with
// the connection limits of DESIGN.md invariant 7. Each connection gets its own
// session (connection.ts); the store is shared.
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Logger } from '../log.js';
import type { MailStore } from '../store/types.js';
import { ConnectionGate } from '../server/connection-gate.js';
import { TlsCredentials } from '../server/tls-credentials.js';
import { ImapConnection } from './connection.js';
import { removeLeftoverSpoolFiles } from '../server/spool-folder.js';
import { SpoolBudget } from './spool-budget.js';

export interface ImapLimits {
  /** Longest command line in bytes. */
  lineLimit: number;
  /** Largest literal outside APPEND. */
  literalLimit: number;
  /** Largest APPEND message (APPENDLIMIT, RFC 7889). */
  appendLimit: number;
  /** Most bytes held for one command. */
  commandLimit: number;
  /** RFC 9051 §5.4: at least 30 minutes. */
  autologoutSeconds: number;
  /** Over both ports, counted at accept (before TLS); per IP means per IPv6 /64. */
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** The implicit-TLS port's handshake deadline. */
  handshakeTimeoutSeconds: number;
  /** A session not logged in by then gets BYE, however active it is (the autologout is for logged-in ones). */
  preLoginTimeoutSeconds: number;
  /** Allow LOGIN/AUTHENTICATE without TLS from 127.0.0.0/8 and ::1 (tests, local tools). */
  allowPlaintextOnLoopback: boolean;
  /** Pipelined commands read ahead of the one running; past this the connection stops reading (decompressed input included). */
  maxQueuedCommands: number;
  /** Reply bytes written but not yet taken by the socket or the compressor; past this no command runs and nothing is read. */
  maxUnsentReplyBytes: number;
  /** Bytes of APPEND literals one connection may have spooled on disk at once (MULTIAPPEND and pipelined APPENDs add up). */
  connectionSpoolLimit: number;
  /** Bytes of APPEND literals all connections together may have spooled on disk at once. */
  spoolLimit: number;
}

export const defaultImapLimits: ImapLimits = {
  lineLimit: 64 * 1024,
  literalLimit: 64 * 1024,
  appendLimit: 64 * 1024 * 1024,
  commandLimit: 1024 * 1024,
  autologoutSeconds: 30 * 60,
  maxConnections: 10_000,
  maxConnectionsPerIp: 50,
  handshakeTimeoutSeconds: 10,
  preLoginTimeoutSeconds: 60,
  allowPlaintextOnLoopback: false,
  maxQueuedCommands: 32,
  maxUnsentReplyBytes: 64 * 1024,
  connectionSpoolLimit: 256 * 1024 * 1024,
  spoolLimit: 1024 * 1024 * 1024,
};

export interface ImapServerOptions {
  store: MailStore;
  log: Logger;
  host: string;
  /** STARTTLS port; 0 picks a free one, null turns it off. */
  port: number | null;
  /** Implicit-TLS port; 0 picks a free one, null turns it off. */
  tlsPort: number | null;
  /** The server's credentials (reloaded pairs reach new connections), or files to load once. */
  tls: TlsCredentials | { certFile: string; keyFile: string };
  limits?: Partial<ImapLimits>;
  /** Where large APPEND literals are spooled (default: the OS temporary folder). */
  spoolDirectory?: string;
  /** How long stop() lets sessions finish after their BYE before destroying them (default 5 s). */
  shutdownGraceSeconds?: number;
}

export interface ImapServer {
  /** The bound ports (useful with port 0). */
  port: number | null;
  tlsPort: number | null;
  stop(): Promise<void>;
}

export async function startImapServer(options: ImapServerOptions): Promise<ImapServer> {
  const limits: ImapLimits = { ...defaultImapLimits, ...options.limits };
  const credentials = options.tls instanceof TlsCredentials ? options.tls : TlsCredentials.load(options.tls, options.log);
  // Spooled APPEND literals are mail: kept with 0600 files in a folder only the server reads.
  if (options.spoolDirectory) {
    await fs.mkdir(options.spoolDirectory, { recursive: true, mode: 0o700 });
    // Literals of APPENDs a crash interrupted: never acknowledged, and nobody will read them.
    await removeLeftoverSpoolFiles(options.spoolDirectory, options.log);
  }
  const spoolBudget = new SpoolBudget(limits.spoolLimit);
  // STARTTLS takes the context in service at the moment of the upgrade.
  const secureContext = () => credentials.secureContext();
  const connections = new Set<ImapConnection>();
  const log = options.log;
  // Both ports share one count, taken at accept: a client that never finishes the
  // handshake on the TLS port holds a slot (until handshakeTimeoutSeconds) like any other.
  const gate = new ConnectionGate({ protocol: 'imap', log, maxConnections: limits.maxConnections, maxConnectionsPerAddress: limits.maxConnectionsPerIp });

  const accept = (socket: net.Socket, secure: boolean) => {
    const connection = new ImapConnection(socket, { store: options.store, log, limits, secureContext, secure, spoolBudget, ...(options.spoolDirectory ? { spoolDirectory: options.spoolDirectory } : {}) });
    connections.add(connection);
    // RFC 9051 §5.4's autologout is for authenticated sessions; before login a client
    // gets a fixed time, so that trickling NOOPs cannot hold a connection for ever.
    const preLogin = setTimeout(() => {
      if (connection.session.state !== 'not-authenticated') return;
      log.info('imap.prelogin_timeout', { remoteAddress: socket.remoteAddress ?? '' });
      connection.shutdown('Login timeout');
    }, limits.preLoginTimeoutSeconds * 1000);
    socket.once('close', () => {
      clearTimeout(preLogin);
      connections.delete(connection);
    });
    connection.start();
  };

  const servers: net.Server[] = [];
  let unfollow = () => {};
  const listen = (server: net.Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.host, () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });

  let port: number | null = null;
  let tlsPort: number | null = null;
  try {
    if (options.port !== null) {
      const plain = net.createServer((socket) => accept(socket, false));
      gate.guard(plain, { refusal: '* BYE Too many connections\r\n' });
      servers.push(plain);
      port = await listen(plain, options.port);
    }
    if (options.tlsPort !== null) {
      const secure = tls.createServer({ ...credentials.contextOptions(), handshakeTimeout: limits.handshakeTimeoutSeconds * 1000 }, (socket) => accept(socket, true));
      // With a listener here Node no longer destroys the socket of a failed or timed-out
      // handshake itself (a listener meant sockets kept open for good).
      secure.on('tlsClientError', (_error, socket) => socket.destroy());
      gate.guard(secure, { refusal: null });
      unfollow = credentials.follow(secure);
      servers.push(secure);
      tlsPort = await listen(secure, options.tlsPort);
    }
  } catch (error) {
    unfollow();
    for (const server of servers) server.close();
    throw error;
  }
  log.info('imap.listening', { host: options.host, port, tlsPort });

  return {
    port,
    tlsPort,
    async stop() {
      unfollow();
      const closing = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
      for (const connection of connections) connection.shutdown('Server shutting down');
      // Sessions that do not go after their BYE, and handshakes never finished, are destroyed.
      await gate.drain((options.shutdownGraceSeconds ?? 5) * 1000);
      await Promise.all(closing);
    },
  };
}
