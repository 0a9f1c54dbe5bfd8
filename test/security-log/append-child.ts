// Child process for the concurrency test: appends `count` security events in small
// random bursts through its own SecurityLog, while another process does the same.
import { createLogger } from '../../src/log.js';
import { SecurityLog } from '../../src/security-log/security-log.js';
import { openStore } from '../../src/store/open-store.js';

const [dataDir, countText, tag] = process.argv.slice(2) as [string, string, string];
const count = Number(countText);
const log = createLogger({ level: 'error' });
const store = await openStore({ dataDir, log });
const securityLog = new SecurityLog({ dataDir, log, batchMilliseconds: 1 });
securityLog.attach(store);
process.stdout.write('ready\n');
// Both children start together when the parent says go.
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.destroy();
let written = 0;
while (written < count) {
  const burst = Math.min(count - written, 1 + Math.floor(Math.random() * 20));
  for (let index = 0; index < burst; index++) securityLog.record('auth.failed', { login: `${tag}@example.com`, protocol: 'imap', address: '192.0.2.1', reason: 'wrong-password', n: written++ });
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
}
await securityLog.close();
await store.close();
process.stdout.write('done\n');
