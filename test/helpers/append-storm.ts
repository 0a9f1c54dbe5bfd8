// Child process for the crash test: opens the store in the folder given as the
// first argument and appends from 10 concurrent writers forever, printing
// `ack <uid> <sha256>` only after each append has been acknowledged. The parent
// kills it with SIGKILL at a random moment.
import { createHash, randomBytes } from 'node:crypto';
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open-store.js';

const dataDir = process.argv[2]!;
const writers = 10;
const store = await openStore({ dataDir, log: createLogger({ level: 'error' }) });
const account = await store.account('alice@example.com');
process.stdout.write('ready\n');

async function writer(id: number): Promise<never> {
  for (let sequence = 0; ; sequence++) {
    // Sizes from 0.5 KB to 80 KB so some writes are mid-file when the kill lands.
    const body = randomBytes(256 + Math.floor(Math.random() * 40_000)).toString('hex');
    const message = Buffer.from(`From: writer${id}@example.org\r\nSubject: ${id}/${sequence}\r\n\r\n${body}\r\n`);
    const hash = createHash('sha256').update(message).digest('hex');
    const result = await account.append('INBOX', message);
    process.stdout.write(`ack ${result.uid} ${hash}\n`);
  }
}

await Promise.all(Array.from({ length: writers }, (_, id) => writer(id)));
