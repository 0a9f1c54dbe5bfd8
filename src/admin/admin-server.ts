// The admin API: JSON over HTTPS on its own listener (127.0.0.1 by default), never
// on a mail port — the "separate network for internal traffic" of a hosted
// provider. Every request but POST /session needs `Authorization: Bearer` with an
// admin token (`postkeep admin token create`) or a session token from POST /session.
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { ConnectionGate } from '../server/connection-gate.js';
import type { TlsCredentials } from '../server/tls-credentials.js';
import type { ManagedStore } from '../store/managed-store.js';
import { accountRoutes } from './account-routes.js';
import { logAdminAction } from './admin-action.js';
import { describeError, HttpError, readJsonBody, sendJson } from './admin-http.js';
import { matchRoute, type Actor, type AdminContext, type Route } from './admin-routes.js';
import { AdminSessions, sessionTokenPrefix } from './admin-sessions.js';
import { hashAdminToken } from './admin-token.js';
import { answerProbe, probeFor } from './probe-endpoints.js';
import type { HealthProbes } from '../server/health-probes.js';
import { auditRoutes } from './audit-routes.js';
import { queueRoutes } from './queue-routes.js';
import { sessionRoutes } from './session-routes.js';

export const adminRoutes: readonly Route[] = [...sessionRoutes, ...accountRoutes, ...queueRoutes, ...auditRoutes];

/** RFC 6750 §3: the challenge a 401 carries. */
const realm = 'Bearer realm="postkeep-admin"';

export interface AdminServerOptions {
  store: ManagedStore;
  log: Logger;
  /** The TLS helper's credentials: its policy (TLS 1.2+, AEAD suites) and certificate reloads apply here too. */
  credentials: TlsCredentials;
  host: string;
  port: number;
  anchorFile: string;
  sessionMinutes?: number;
  maxBodyBytes?: number;
  /** Open connections, counted at accept (before TLS); default 100. */
  maxConnections?: number;
  /** Open connections from one address (IPv6: one /64); default 20. */
  maxConnectionsPerIp?: number;
  /** Seconds a client has to finish the TLS handshake; default 10. */
  handshakeTimeoutSeconds?: number;
  /** How long stop() lets requests in progress finish before closing their connections; default 5. */
  shutdownGraceSeconds?: number;
  /** What GET /healthz/live, /healthz/ready and /metrics answer (probe-endpoints.ts); without it they are 404. */
  probes?: HealthProbes;
}

export interface AdminServer {
  host: string;
  port: number;
  stop(): Promise<void>;
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const sessions = new AdminSessions((options.sessionMinutes ?? 15) * 60_000);
  const context: AdminContext = { store: options.store, log: options.log, sessions, anchorFile: options.anchorFile };
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const server = https.createServer(
    {
      ...options.credentials.contextOptions(),
      requestTimeout: 30_000,
      headersTimeout: 10_000,
      keepAliveTimeout: 5_000,
      maxHeaderSize: 16 * 1024,
      handshakeTimeout: (options.handshakeTimeoutSeconds ?? 10) * 1000,
    },
    (request, response) => void handle(context, request, response, maxBodyBytes, options.probes),
  );
  // Counted at accept: Node's own maxConnections would drop sockets silently, and
  // closeAllConnections() in stop() does not see a socket still in its handshake.
  const gate = new ConnectionGate({ protocol: 'admin_api', log: options.log, maxConnections: options.maxConnections ?? 100, maxConnectionsPerAddress: options.maxConnectionsPerIp ?? 20 });
  gate.guard(server, { refusal: null });
  const unfollow = options.credentials.follow(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A TLS handshake that fails (a plain-HTTP client, a scanner) is not worth more than a debug line.
  // With a listener Node no longer destroys the socket of a failed or timed-out handshake: this one does.
  server.on('tlsClientError', (error, socket) => {
    options.log.debug('admin_api.tls_error', { error: String(error) });
    socket.destroy();
  });
  const address = server.address() as AddressInfo;
  options.log.info('admin_api.listening', { host: address.address, port: address.port });
  return {
    host: address.address,
    port: address.port,
    async stop() {
      unfollow();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections go now; a request in progress gets the grace period.
      server.closeIdleConnections();
      await gate.drain((options.shutdownGraceSeconds ?? 5) * 1000);
      await closed;
    },
  };
}

async function handle(context: AdminContext, request: IncomingMessage, response: ServerResponse, maxBodyBytes: number, probes: HealthProbes | undefined): Promise<void> {
  const address = request.socket.remoteAddress ?? '';
  const method = request.method ?? '';
  try {
    const url = new URL(request.url ?? '/', 'https://admin.invalid');
    const probe = probes === undefined ? null : probeFor(url.pathname);
    if (probe !== null) {
      // Health probes go without a credential, as orchestrators expect; metrics need one.
      if (probe === 'metrics') await authenticateBearer(context, request, address);
      return await answerProbe(probe, method, probes!, response);
    }
    const match = matchRoute(adminRoutes, method, url.pathname);
    if (!match) throw new HttpError(404, `there is no endpoint ${method} ${url.pathname}`);
    // Credentials are checked before any body is read.
    const actor = match.route.public ? null : await authenticateBearer(context, request, address);
    const body = method === 'GET' ? {} : await readJsonBody(request, maxBodyBytes);
    const result = await match.route.handle(context, { actor, address, params: match.params, query: url.searchParams, body });
    const login = match.params.login?.trim().toLowerCase();
    logAdminAction(context.log, actor?.name ?? String(result.logFields?.actor ?? 'anonymous'), match.route.action, {
      protocol: 'admin',
      address,
      ...(login === undefined ? {} : { login }),
      ...result.logFields,
    });
    sendJson(response, result.status ?? 200, result.body);
  } catch (error) {
    const known = describeError(error);
    if (!known) context.log.error('admin_api.failed', { method, address, error: String(error) });
    const status = known?.status ?? 500;
    // 413: the rest of an oversized body is not read; closing is the only clean answer.
    if (status === 413) response.setHeader('connection', 'close');
    if (!response.headersSent) sendJson(response, status, { error: known?.message ?? 'internal error (see the server log)' }, known?.headers);
    else response.destroy();
  }
}

async function authenticateBearer(context: AdminContext, request: IncomingMessage, address: string): Promise<Actor> {
  const header = request.headers.authorization;
  if (header === undefined) throw new HttpError(401, 'authentication required: send Authorization: Bearer <token>', { 'www-authenticate': realm });
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header);
  if (!match) {
    context.log.info('auth.failed', { login: 'admin-token', protocol: 'admin', address, credential: 'admin-token', reason: 'malformed' });
    throw new HttpError(401, 'the Authorization header must be: Bearer <token>', { 'www-authenticate': `${realm}, error="invalid_request"` });
  }
  const bearer = match[1]!;
  if (bearer.startsWith(sessionTokenPrefix)) {
    const login = context.sessions.find(bearer);
    // Taking admin rights away (`postkeep user admin x off`) ends the account's sessions too.
    if (login !== null && (await context.store.admin.getLoginCredentials(login))?.isAdmin) return { name: login, kind: 'session', bearer };
  } else {
    const token = await context.store.admin.useAdminToken(hashAdminToken(bearer));
    if (token !== null) return { name: `token:${token.name}`, kind: 'token', bearer };
  }
  context.log.info('auth.failed', { login: 'admin-token', protocol: 'admin', address, credential: bearer.startsWith(sessionTokenPrefix) ? 'admin-session' : 'admin-token', reason: 'invalid-token' });
  throw new HttpError(401, 'the token is not valid (unknown, revoked or expired)', { 'www-authenticate': `${realm}, error="invalid_token"` });
}
