// A whole Postkeep server (startServer: every listener on an ephemeral 127.0.0.1
// port, one TlsCredentials), and TLS clients that reach each listener the way a
// mail client does: implicit TLS, IMAP STARTTLS, SMTP STARTTLS.
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import selfsigned from 'selfsigned';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createMemoryLogger } from '../../src/log.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

export type EndpointKind = 'implicit' | 'imap-starttls' | 'smtp-starttls';

export interface Endpoint {
  name: string;
  kind: EndpointKind;
  port: number;
}

export interface FullServer {
  server: RunningServer;
  config: Config;
  log: ReturnType<typeof createMemoryLogger>;
  dataDir: string;
  /** IMAP implicit TLS, IMAP STARTTLS, SMTP 465, submission STARTTLS, MX STARTTLS, admin HTTPS. */
  endpoints: Endpoint[];
  stop(): Promise<void>;
}

export async function startFullServer(overrides: { tls?: { certFile: string; keyFile: string }; imap?: Record<string, unknown>; auth?: Record<string, unknown> } = {}): Promise<FullServer> {
  const dataDir = await temporaryDirectory('postkeep-tls-');
  const log = createMemoryLogger();
  const config = configSchema.parse({
    dataDir,
    hostname: 'localhost',
    store: { scrubDays: 0 },
    imap: { port: 0, tlsPort: 0, ...overrides.imap },
    ...(overrides.auth ? { auth: overrides.auth } : {}),
    smtp: { mx: { port: 0, greetingDelayMilliseconds: 0 }, submission: { port: 0 }, submissions: { port: 0 } },
    admin: { port: 0 },
    ...(overrides.tls ? { tls: overrides.tls } : {}),
  });
  const server = await startServer(config, log);
  const listeners = server.smtp.listeners;
  const endpoints: Endpoint[] = [
    { name: 'imap implicit TLS', kind: 'implicit', port: server.imap!.tlsPort! },
    { name: 'imap STARTTLS', kind: 'imap-starttls', port: server.imap!.port! },
    { name: 'smtp submissions (465)', kind: 'implicit', port: listeners.submissions!.port },
    { name: 'smtp submission STARTTLS (587)', kind: 'smtp-starttls', port: listeners.submission!.port },
    { name: 'smtp mx STARTTLS (25)', kind: 'smtp-starttls', port: listeners.mx!.port },
    ...(server.admin ? [{ name: 'admin HTTPS', kind: 'implicit' as const, port: server.admin.port }] : []),
  ];
  return {
    server,
    config,
    log,
    dataDir,
    endpoints,
    async stop() {
      await server.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reads from a cleartext socket until `pattern` matches what arrived; returns it. */
function readUntil(socket: net.Socket, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => done(new Error(`no ${pattern} within 20 s; got ${JSON.stringify(text)}`)), 20_000);
    const onData = (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (pattern.test(text)) done(null);
    };
    const onClose = () => done(new Error(`closed before ${pattern}; got ${JSON.stringify(text)}`));
    const done = (error: Error | null) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onClose);
      if (error) reject(error);
      else resolve(text);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onClose);
  });
}

/** Connects to an endpoint and completes the TLS handshake (after STARTTLS where the endpoint needs it). */
export async function handshake(endpoint: Endpoint, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  const tlsOptions: tls.ConnectionOptions = { rejectUnauthorized: false, servername: 'localhost', ...options };
  if (endpoint.kind === 'implicit') return secureConnect(tls.connect({ host: '127.0.0.1', port: endpoint.port, ...tlsOptions }));
  const plain = net.connect({ host: '127.0.0.1', port: endpoint.port });
  await new Promise<void>((resolve, reject) => {
    plain.once('connect', resolve);
    plain.once('error', reject);
  });
  try {
    if (endpoint.kind === 'imap-starttls') {
      await readUntil(plain, /^\* OK .*\r\n/m);
      plain.write('s1 STARTTLS\r\n');
      await readUntil(plain, /^s1 OK .*\r\n/m);
    } else {
      await readUntil(plain, /^220 .*\r\n/m);
      plain.write('EHLO client.example.org\r\n');
      await readUntil(plain, /^250 .*\r\n/m);
      plain.write('STARTTLS\r\n');
      await readUntil(plain, /^220 .*\r\n/m);
    }
  } catch (error) {
    plain.destroy();
    throw error;
  }
  return secureConnect(tls.connect({ socket: plain, ...tlsOptions }));
}

function secureConnect(socket: tls.TLSSocket): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', (error) => {
      socket.destroy();
      reject(error);
    });
  });
}

/** "TLSv1.3 TLS_AES_128_GCM_SHA256", or "refused: <error code>". */
export async function outcome(endpoint: Endpoint, options: tls.ConnectionOptions = {}): Promise<string> {
  try {
    const socket = await handshake(endpoint, options);
    const result = `${socket.getProtocol()} ${socket.getCipher().name}`;
    socket.destroy();
    return result;
  } catch (error) {
    return `refused: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
  }
}

/** The SHA-256 fingerprint of the certificate a new connection to `endpoint` is shown. */
export async function servedFingerprint(endpoint: Endpoint): Promise<string> {
  const socket = await handshake(endpoint);
  const fingerprint = socket.getPeerX509Certificate()!.fingerprint256;
  socket.destroy();
  return fingerprint;
}

export interface GeneratedPair {
  cert: string;
  key: string;
  fingerprint256: string;
}

/** A fresh self-signed pair for localhost (EC P-256 unless `rsa`). */
export async function generatePair(options: { notBefore?: Date; notAfter?: Date; commonName?: string; rsa?: boolean } = {}): Promise<GeneratedPair> {
  const notBefore = options.notBefore ?? new Date(Date.now() - 3_600_000);
  const notAfter = options.notAfter ?? new Date(Date.now() + 90 * 86_400_000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: options.commonName ?? 'localhost' }], {
    ...(options.rsa ? { keyType: 'rsa' as const, keySize: 2048 } : { keyType: 'ec' as const, curve: 'P-256' }),
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  return { cert: pems.cert, key: pems.private, fingerprint256: new X509Certificate(pems.cert).fingerprint256 };
}

/** Replaces a file the way certbot and careful admins do: write a temporary file, rename it into place. */
export async function replaceFile(file: string, content: string): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await fs.writeFile(temporary, content, { mode: 0o600 });
  await fs.rename(temporary, file);
}

/** Waits until the memory log holds an event named `name` (with `fields` among its fields) past index `from`; returns it. */
export async function waitForEvent(
  log: FullServer['log'],
  name: string,
  from = 0,
  fields: Record<string, unknown> = {},
): Promise<{ level: string; event: string; fields: Record<string, unknown> }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = log.events.slice(from).find((entry) => entry.event === name && Object.entries(fields).every(([key, value]) => entry.fields[key] === value));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no ${name} event within 20 s; events: ${log.events.slice(from).map((entry) => entry.event).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A line-oriented client for exact-byte checks, cleartext or TLS, with STARTTLS. */
export class LineClient {
  private buffer = '';
  private waiters: (() => void)[] = [];
  closed = false;
  /** Everything the server sent on this connection, in order. */
  transcript = '';

  private constructor(public socket: net.Socket) {
    this.listen(socket);
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1');
      this.transcript += chunk.toString('latin1');
      for (const waiter of this.waiters.splice(0)) waiter();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.waiters.splice(0)) waiter();
    });
    socket.on('error', () => {});
  }

  /** Connects (TLS when `secure`; from `localAddress` if given) and reads the greeting. */
  static async connect(port: number, secure: boolean, options: { localAddress?: string } = {}): Promise<LineClient> {
    const socket = secure
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost', ...options })
      : net.connect({ host: '127.0.0.1', port, ...options });
    await new Promise<void>((resolve, reject) => {
      socket.once(secure ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new LineClient(socket);
    await client.expect(/^(\* OK|220) .*\r\n/m);
    return client;
  }

  /** Waits until what arrived matches `pattern`; returns it all and forgets it. */
  async expect(pattern: RegExp): Promise<string> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const match = pattern.exec(this.buffer);
      if (match) {
        const end = match.index + match[0].length;
        const text = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end);
        return text;
      }
      if (this.closed) throw new Error(`connection closed; received ${JSON.stringify(this.buffer)}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} within 30 s; received ${JSON.stringify(this.buffer.slice(-2000))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** IMAP: sends `tag text` and returns everything up to the tagged reply. */
  async command(tag: string, text: string): Promise<string> {
    this.write(`${tag} ${text}\r\n`);
    return this.expect(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`));
  }

  /** SMTP: sends a line and returns the whole (possibly multi-line) reply. */
  async smtp(line: string): Promise<string> {
    this.write(line + '\r\n');
    return this.expect(/(^|\r\n)\d{3} [^\r\n]*\r\n/);
  }

  /** Starts TLS on this connection (after the server said go ahead). */
  async upgrade(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}
