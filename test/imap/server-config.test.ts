import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { test } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { createMemoryLogger } from '../../src/log.js';
import { startServer } from '../../src/server/server.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

test('config: the imap section has loopback defaults and refuses unknown keys', () => {
  const config = configSchema.parse({});
  assert.equal(config.imap.host, '127.0.0.1');
  assert.equal(config.imap.port, 1143);
  assert.equal(config.imap.tlsPort, 1993);
  assert.equal(config.imap.autologoutSeconds, 1800);
  assert.equal(config.imap.allowPlaintextOnLoopback, false);
  assert.throws(() => configSchema.parse({ imap: { colour: 'blue' } }));
  assert.throws(() => configSchema.parse({ imap: { autologoutSeconds: 5 } }));
});

test('startServer runs the IMAP listeners from config and stops them', { timeout: 60_000 }, async () => {
  const directory = await temporaryDirectory('postkeep-imap-server-');
  const dataDir = path.join(directory, 'data');
  const config = configSchema.parse({
    dataDir,
    imap: { port: 0, tlsPort: 0 },
    smtp: { mx: { port: 0 }, submission: { port: 0 }, submissions: { port: 0 } },
    admin: { port: 0 },
  });
  const running = await startServer(config, createMemoryLogger());
  try {
    assert.ok(running.imap?.tlsPort);
    const socket = tls.connect({ host: '127.0.0.1', port: running.imap.tlsPort, rejectUnauthorized: false });
    const greeting = await new Promise<string>((resolve, reject) => {
      socket.once('data', (chunk) => resolve(chunk.toString()));
      socket.once('error', reject);
    });
    socket.destroy();
    assert.match(greeting, /^\* OK \[CAPABILITY IMAP4rev1 IMAP4rev2 .*AUTH=PLAIN/);
  } finally {
    await running.stop();
    await fs.rm(directory, { recursive: true, force: true });
  }
});
