// A real IMAP server on 127.0.0.1, ephemeral ports, a temporary store; and a raw
// client for tests that check exact bytes.
import * as net from 'node:net';
import * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import { ImapFlow } from 'imapflow';
import { hashPassword } from '../../src/auth/password.js';
import { startImapServer, type ImapLimits, type ImapServer } from '../../src/imap/server.js';
import { ensureCertificate } from '../../src/server/certificate.js';
import { createTemporaryStore, type TemporaryStore } from '../helpers/temporary-store.js';

export const login = 'alice@example.com';
export const password = 'correct horse battery staple';

export interface TestServer extends TemporaryStore {
  server: ImapServer;
  tlsPort: number;
  port: number;
  stop(): Promise<void>;
}

let passwordHash: Promise<string> | undefined;

export async function startTestServer(limits: Partial<ImapLimits> = {}): Promise<TestServer> {
  const temporary = await createTemporaryStore();
  passwordHash ??= hashPassword(password);
  await temporary.store.admin.setPasswordHash(login, await passwordHash);
  const files = await ensureCertificate({ dataDir: temporary.dataDir, hostname: 'localhost', certFile: '', keyFile: '', log: temporary.log });
  const server = await startImapServer({ store: temporary.store, log: temporary.log, host: '127.0.0.1', port: 0, tlsPort: 0, tls: files, limits });
  return {
    ...temporary,
    server,
    port: server.port!,
    tlsPort: server.tlsPort!,
    async stop() {
      await server.stop();
      await temporary.dispose();
    },
  };
}

export function imapflow(server: TestServer): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: server.tlsPort,
    secure: true,
    tls: { rejectUnauthorized: false },
    auth: { user: login, pass: password },
    logger: false,
  });
}

/** A line-oriented client that shows exactly what the server sent. */
export class RawClient {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(public socket: net.Socket) {
    this.listen(socket);
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (const waiter of this.waiters.splice(0)) waiter();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.waiters.splice(0)) waiter();
    });
    socket.on('error', () => {});
  }

  static async connect(server: TestServer, secure = true): Promise<RawClient> {
    const socket = secure
      ? tls.connect({ host: '127.0.0.1', port: server.tlsPort, rejectUnauthorized: false })
      : net.connect({ host: '127.0.0.1', port: server.port });
    await new Promise<void>((resolve, reject) => {
      socket.once(secure ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawClient(socket);
    await client.readUntil(/^\* OK .*\r\n/m);
    client.take();
    return client;
  }

  /** Waits until the unread bytes match, and returns them (without consuming). */
  async readUntil(pattern: RegExp): Promise<string> {
    // A failsafe so that a wrong expectation fails with what arrived instead of hanging the run.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const text = this.buffer.toString('latin1');
      if (pattern.test(text)) return text;
      if (this.closed) throw new Error(`connection closed; received so far: ${JSON.stringify(text)}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} within 30 s; received so far: ${JSON.stringify(text.slice(-2000))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Returns and forgets everything received so far. */
  take(): string {
    const text = this.buffer.toString('latin1');
    this.buffer = Buffer.alloc(0);
    return text;
  }

  private deflate: zlib.DeflateRaw | null = null;

  write(data: string | Buffer): void {
    if (this.deflate) {
      this.deflate.write(data);
      this.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    } else {
      this.socket.write(data);
    }
  }

  /** After `COMPRESS DEFLATE` got its OK: raw DEFLATE both ways (RFC 4978). */
  compress(): void {
    const inflate = zlib.createInflateRaw();
    const deflate = zlib.createDeflateRaw();
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    this.socket.on('data', (chunk: Buffer) => inflate.write(chunk));
    // The last bytes are still being inflated when the socket closes.
    this.socket.on('close', () => inflate.end());
    inflate.on('end', () => {
      this.closed = true;
      for (const waiter of this.waiters.splice(0)) waiter();
    });
    inflate.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (const waiter of this.waiters.splice(0)) waiter();
    });
    deflate.on('data', (chunk: Buffer) => this.socket.write(chunk));
    this.deflate = deflate;
  }

  /** Sends `tag command` and returns everything up to and including the tagged reply. */
  async command(tag: string, text: string | Buffer): Promise<string> {
    this.write(typeof text === 'string' ? `${tag} ${text}\r\n` : Buffer.concat([Buffer.from(`${tag} `), text, Buffer.from('\r\n')]));
    return this.response(tag);
  }

  async response(tag: string): Promise<string> {
    const pattern = new RegExp(`(^|\\r\\n)${tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} (OK|NO|BAD)[^\\r\\n]*\\r\\n`);
    await this.readUntil(pattern);
    const text = this.buffer.toString('latin1');
    const match = pattern.exec(text)!;
    const end = match.index + match[0].length;
    this.buffer = this.buffer.subarray(end);
    return text.slice(0, end);
  }

  /** STARTTLS on a cleartext connection. */
  async upgrade(): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
  }

  async login(): Promise<void> {
    const reply = await this.command('L1', `LOGIN ${login} "${password}"`);
    if (!/L1 OK/.test(reply)) throw new Error(reply);
  }

  close(): void {
    this.socket.destroy();
  }
}
