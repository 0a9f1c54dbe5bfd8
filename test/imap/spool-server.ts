// An IMAP server as `postkeep start` wires it for APPEND: literals spooled in
// `<dataDir>/imap-spool`, the spool limits and an account quota chosen by the test.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { hashPassword } from '../../src/auth/password.js';
import { spoolDirectoryName } from '../../src/server/spool-folder.js';
import { startImapServer, type ImapLimits } from '../../src/imap/server.js';
import { ensureCertificate } from '../../src/server/certificate.js';
import { createTemporaryStore } from '../helpers/temporary-store.js';
import { login, password, type RawClient, type TestServer } from './server-harness.js';

export interface SpoolServer extends TestServer {
  spoolDirectory: string;
}

let passwordHash: Promise<string> | undefined;

export async function startSpoolServer(options: { limits?: Partial<ImapLimits>; quotaBytes?: number; quotaMessages?: number; beforeStart?: (spoolDirectory: string) => Promise<void> } = {}): Promise<SpoolServer> {
  const temporary = await createTemporaryStore({ quotaBytes: options.quotaBytes, quotaMessages: options.quotaMessages });
  passwordHash ??= hashPassword(password);
  await temporary.store.admin.setPasswordHash(login, await passwordHash);
  const files = await ensureCertificate({ dataDir: temporary.dataDir, hostname: 'localhost', certFile: '', keyFile: '', log: temporary.log });
  const spoolDirectory = path.join(temporary.dataDir, spoolDirectoryName);
  await options.beforeStart?.(spoolDirectory);
  const server = await startImapServer({
    store: temporary.store,
    log: temporary.log,
    host: '127.0.0.1',
    port: 0,
    tlsPort: 0,
    tls: files,
    limits: { allowPlaintextOnLoopback: true, ...options.limits },
    spoolDirectory,
  });
  return {
    ...temporary,
    server,
    port: server.port!,
    tlsPort: server.tlsPort!,
    spoolDirectory,
    async stop() {
      await server.stop();
      await temporary.dispose();
    },
  };
}

/** Bytes in the spool folder's files right now. */
export async function spoolBytes(directory: string): Promise<number> {
  let total = 0;
  for (const name of await fs.readdir(directory).catch(() => [] as string[])) {
    total += (await fs.stat(path.join(directory, name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** Waits for the spool folder to be empty again (its files are removed just after a command ends). */
export async function spoolEmptied(directory: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if ((await fs.readdir(directory)).length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the spool folder still holds ${(await fs.readdir(directory)).join(', ')}`);
}

/** Writes `data` and waits until the socket has taken it. */
export function send(client: RawClient, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => client.socket.write(data, (error) => (error ? reject(error) : resolve())));
}

/**
 * Sends `data` (or that many bytes of filler) in 1 MiB pieces, sampling the spool folder
 * after each: returns the most it held. Nothing here waits on the server's timing.
 */
export async function uploadSampling(client: RawClient, spoolDirectory: string, data: Buffer | number): Promise<number> {
  const bytes = typeof data === 'number' ? Buffer.alloc(data, 'x') : data;
  const piece = 1024 * 1024;
  let most = 0;
  for (let sent = 0; sent < bytes.length; sent += piece) {
    await send(client, bytes.subarray(sent, sent + piece));
    most = Math.max(most, await spoolBytes(spoolDirectory));
  }
  return most;
}

/** A message of exactly `size` bytes (headers, then filler lines). */
export function messageOfSize(size: number): Buffer {
  const header = Buffer.from('From: bob@example.org\r\nTo: alice@example.com\r\nSubject: filler\r\n\r\n');
  const body = Buffer.alloc(size - header.length, 'y');
  for (let position = 76; position + 1 < body.length; position += 78) body.write('\r\n', position);
  return Buffer.concat([header, body]);
}
