// `npm run bench:store`: durable appends per second for 1 and 10 concurrent
// writers with 10 KB and 100 KB messages, with group commit and with one commit
// (and one fsync) per message, and FETCH-by-UID throughput of verified reads.
// Every figure is the median of three trials in fresh stores; prints JSON.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLogger } from '../src/log.js';
import { openStore } from '../src/store/open-store.js';

const trials = 3;
const messagesPerTrial = (size: number) => (size >= 100_000 ? 300 : 1000);

function message(size: number): Buffer {
  const header = `From: bench@example.org\r\nTo: alice@example.com\r\nSubject: ${randomBytes(6).toString('hex')}\r\nMessage-ID: <${randomBytes(12).toString('hex')}@example.org>\r\n\r\n`;
  const line = randomBytes(38).toString('base64') + '\r\n';
  return Buffer.from(header + line.repeat(Math.ceil((size - header.length) / line.length))).subarray(0, size);
}

async function freshStore(groupCommit: boolean) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postkeep-bench-'));
  const store = await openStore({ dataDir, log: createLogger({ level: 'error' }), groupCommit });
  await store.admin.addDomain('example.com');
  await store.admin.addAccount('alice@example.com', 'x');
  return { dataDir, store, account: await store.account('alice@example.com') };
}

async function appendRate(size: number, writers: number, groupCommit: boolean): Promise<number> {
  const { dataDir, store, account } = await freshStore(groupCommit);
  const total = messagesPerTrial(size);
  const bodies = Array.from({ length: total }, () => message(size));
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < total) await account.append('INBOX', bodies[next++]!);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await store.close();
  await fs.rm(dataDir, { recursive: true, force: true });
  return total / seconds;
}

async function fetchRate(size: number): Promise<number> {
  const { dataDir, store, account } = await freshStore(true);
  const total = messagesPerTrial(size);
  await Promise.all(Array.from({ length: total }, () => account.append('INBOX', message(size))));
  const inbox = await account.getMailbox('INBOX');
  const records = await account.fetch(inbox.id, { uids: [[1, Infinity]], withStructure: true });
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (const record of records) bytes += (await account.readMessage(inbox.id, record.uid)).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await store.close();
  await fs.rm(dataDir, { recursive: true, force: true });
  return bytes / 1e6 / seconds;
}

async function median(run: () => Promise<number>): Promise<number> {
  const values: number[] = [];
  for (let trial = 0; trial < trials; trial++) values.push(await run());
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

const round = (value: number) => Math.round(value * 10) / 10;
const appends: Record<string, unknown>[] = [];
for (const size of [10_000, 100_000]) {
  for (const writers of [1, 10]) {
    const grouped = await median(() => appendRate(size, writers, true));
    const perMessage = await median(() => appendRate(size, writers, false));
    appends.push({
      messageBytes: size,
      writers,
      groupCommitAppendsPerSecond: round(grouped),
      fsyncPerMessageAppendsPerSecond: round(perMessage),
      groupCommitGain: round(grouped / perMessage),
    });
  }
}
const fetches = [];
for (const size of [10_000, 100_000]) fetches.push({ messageBytes: size, verifiedFetchByUidMegabytesPerSecond: round(await median(() => fetchRate(size))) });
process.stdout.write(JSON.stringify({ benchmark: 'store', trials, statistic: 'median', node: process.version, appends, fetches }, null, 2) + '\n');
