// A real store in a fresh temporary data folder, with one account ready.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createMemoryLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open-store.js';
import type { SqliteAccountStore } from '../../src/store/sqlite/account-store.js';
import type { SqliteMailStore } from '../../src/store/sqlite/sqlite-store.js';

export interface TemporaryStore {
  dataDir: string;
  store: SqliteMailStore;
  account: SqliteAccountStore;
  log: ReturnType<typeof createMemoryLogger>;
  /** Closes the store and removes the folder. */
  dispose(): Promise<void>;
}

export async function temporaryDirectory(prefix = 'postkeep-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function createTemporaryStore(options: { retentionDays?: number; quotaBytes?: number; quotaMessages?: number } = {}): Promise<TemporaryStore> {
  const dataDir = await temporaryDirectory();
  const log = createMemoryLogger();
  const store = await openStore({ dataDir, log, retentionDays: options.retentionDays });
  await store.admin.addDomain('example.com');
  await store.admin.addAccount('alice@example.com', 'not-a-real-hash', { quotaBytes: options.quotaBytes, quotaMessages: options.quotaMessages });
  const account = await store.account('alice@example.com');
  return {
    dataDir,
    store,
    account,
    log,
    async dispose() {
      await store.close().catch(() => {});
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

let counter = 0;

/** A small, valid RFC 5322 message, different every call unless `body` is given. */
export function sampleMessage(options: { subject?: string; body?: string; messageId?: string; inReplyTo?: string; size?: number } = {}): Buffer {
  counter++;
  const messageId = options.messageId ?? `<m${counter}.${process.pid}.${Date.now()}@example.com>`;
  const headers = [
    'From: Bob <bob@example.org>',
    'To: Alice <alice@example.com>',
    `Subject: ${options.subject ?? `Message ${counter}`}`,
    'Date: Fri, 27 Nov 2026 10:00:00 +0000',
    `Message-ID: ${messageId}`,
    ...(options.inReplyTo ? [`In-Reply-To: ${options.inReplyTo}`, `References: ${options.inReplyTo}`] : []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
  ];
  let body = options.body ?? `Hello number ${counter}.\r\n`;
  if (options.size !== undefined) {
    const line = 'The quick brown fox jumps over the lazy dog 0123456789.\r\n';
    while (body.length < options.size) body += line;
  }
  return Buffer.from(headers.join('\r\n') + '\r\n\r\n' + body);
}
