// A whole Postkeep server (startServer, every listener on an ephemeral 127.0.0.1
// port) with its admin HTTPS API, two accounts and an admin token; and a client
// that speaks real HTTPS to it, trusting only the server's own certificate.
import * as fs from 'node:fs/promises';
import * as https from 'node:https';
import * as net from 'node:net';
import { generateAdminToken } from '../../src/admin/admin-token.js';
import { hashPassword } from '../../src/auth/password.js';
import { configSchema } from '../../src/config/schema.js';
import { createMemoryLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { staticResolver } from '../../src/smtp/dns-resolver.js';
import type { SqliteMailStore } from '../../src/store/sqlite/sqlite-store.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

export const adminLogin = 'alice@example.com';
export const userLogin = 'bob@example.com';
export const password = 'correct horse battery staple';

export interface AdminHarness {
  server: RunningServer;
  store: SqliteMailStore;
  dataDir: string;
  log: ReturnType<typeof createMemoryLogger>;
  port: number;
  ca: Buffer;
  /** An active admin token named "ops". */
  token: string;
  request(method: string, path: string, options?: RequestOptions): Promise<AdminResponse>;
  close(): Promise<void>;
}

export interface RequestOptions {
  token?: string;
  /** Serialised as JSON. */
  body?: unknown;
  /** Sent as is. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export interface AdminResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

let passwordHash: Promise<string> | undefined;

/** A loopback port with nothing listening: queued mail to remote.test is deferred, never sent or bounced. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startAdminHarness(): Promise<AdminHarness> {
  const dataDir = await temporaryDirectory('postkeep-admin-');
  const config = configSchema.parse({
    dataDir,
    hostname: 'localhost',
    store: { scrubDays: 0 },
    imap: { port: 0, tlsPort: 0 },
    smtp: { mx: { port: 0, greetingDelayMilliseconds: 0 }, submission: { port: 0 }, submissions: { port: 0 } },
    admin: { port: 0 },
    outbound: { port: await closedPort(), timeoutSeconds: 5 },
  });
  const log = createMemoryLogger();
  const server = await startServer(config, log, { smtp: { resolver: staticResolver({ 'remote.test': { A: ['127.0.0.1'] } }) } });
  const store = server.store as SqliteMailStore;
  passwordHash ??= hashPassword(password);
  await store.admin.addDomain('example.com');
  await store.admin.addAccount(adminLogin, await passwordHash);
  await store.admin.addAccount(userLogin, await passwordHash);
  await store.admin.setAdmin(adminLogin, true);
  const { token, tokenHash } = generateAdminToken();
  await store.admin.createAdminToken('ops', tokenHash);
  const ca = await fs.readFile(server.tls.certFile);
  const port = server.admin!.port;
  return {
    server,
    store,
    dataDir,
    log,
    port,
    ca,
    token,
    request: (method, path, options = {}) => adminRequest(port, ca, method, path, options),
    async close() {
      await server.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function adminRequest(port: number, ca: Buffer, method: string, path: string, options: RequestOptions = {}): Promise<AdminResponse> {
  return new Promise((resolve, reject) => {
    const body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        ca,
        servername: 'localhost',
        agent: false,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
          ...options.headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = undefined;
          try {
            json = JSON.parse(text);
          } catch {
            // Left undefined: the test says what it expected.
          }
          resolve({ status: response.statusCode!, headers: response.headers, text, json });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The security log entries so far (after the writer's pending batch is flushed). */
export async function securityEntries(harness: AdminHarness, eventPrefix?: string) {
  await harness.server.securityLog.flush();
  const entries = await harness.store.admin.readSecurityLog({ limit: 10_000, eventPrefixes: eventPrefix ? [eventPrefix] : undefined });
  return entries.map((entry) => ({ ...entry, data: JSON.parse(entry.fields) as Record<string, unknown> }));
}
