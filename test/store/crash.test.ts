// Invariant 1 under fire: a child appends from 10 writers and is killed with
// SIGKILL at random moments; after every restart each acknowledged message is
// there with its exact bytes, and no partial file shows up as a blob.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createMemoryLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open-store.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

const child = fileURLToPath(new URL('../helpers/append-storm.ts', import.meta.url));
const cycles = 20;

/** Runs the child until `ready`, lets it write for `runMilliseconds`, kills it; returns the acknowledged appends. */
function runAndKill(dataDir: string, runMilliseconds: number): Promise<Map<number, string>> {
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, ['--import', 'tsx', child, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acknowledged = new Map<number, string>();
    let buffered = '';
    let timer: NodeJS.Timeout | undefined;
    process_.stdout.on('data', (data: Buffer) => {
      buffered += data.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') timer = setTimeout(() => process_.kill('SIGKILL'), runMilliseconds);
        const match = /^ack (\d+) ([0-9a-f]{64})$/.exec(line);
        if (match) acknowledged.set(Number(match[1]), match[2]!);
      }
    });
    process_.on('error', reject);
    process_.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited by itself (code ${code}, signal ${signal})`));
      else resolve(acknowledged);
    });
  });
}

test(`every acknowledged append survives SIGKILL (${cycles} cycles)`, { timeout: 300_000 }, async (t) => {
  const dataDir = await temporaryDirectory('postkeep-crash-');
  const log = createMemoryLogger();
  const setup = await openStore({ dataDir, log });
  await setup.admin.addDomain('example.com');
  await setup.admin.addAccount('alice@example.com', 'x');
  await setup.close();

  const everAcknowledged = new Map<number, string>();
  const verifiedBlobs = new Set<string>();
  let totalAcknowledged = 0;
  for (let cycle = 0; cycle < cycles; cycle++) {
    const acknowledged = await runAndKill(dataDir, 50 + Math.floor(Math.random() * 400));
    for (const [uid, hash] of acknowledged) everAcknowledged.set(uid, hash);
    totalAcknowledged += acknowledged.size;

    const store = await openStore({ dataDir, log });
    try {
      const account = await store.account('alice@example.com');
      const inbox = await account.getMailbox('INBOX');
      const records = new Map((await account.fetch(inbox.id, { uids: [[1, Infinity]] })).map((record) => [record.uid, record]));
      for (const [uid, hash] of everAcknowledged) {
        const record = records.get(uid);
        assert.ok(record, `cycle ${cycle}: acknowledged UID ${uid} is missing`);
        assert.equal(record.blobHash, hash, `cycle ${cycle}: UID ${uid} has other bytes`);
        // readMessage re-hashes the file: the exact acknowledged bytes are there.
        if (acknowledged.has(uid)) await account.readMessage(inbox.id, uid);
      }
      for await (const name of store.context.blobs.list()) {
        if (verifiedBlobs.has(name)) continue;
        assert.ok(await store.context.blobs.verify(name), `cycle ${cycle}: blob ${name} is partial or wrong`);
        verifiedBlobs.add(name);
      }
      assert.deepEqual(await fs.readdir(path.join(dataDir, 'blobs', 'tmp')), [], 'torn temp files are cleared at open');
      assert.deepEqual(await store.checkConsistency(), []);
    } finally {
      await store.close();
    }
  }
  t.diagnostic(`${totalAcknowledged} acknowledged appends over ${cycles} kills, all present`);
  assert.ok(totalAcknowledged >= cycles, `the writers got to work (${totalAcknowledged} acknowledged appends)`);
  await fs.rm(dataDir, { recursive: true, force: true });
});
