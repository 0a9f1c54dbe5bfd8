// The background scrub as it runs in production: started by startServer from the
// config (store.scrubDays, here two seconds so that passes follow each other in the
// test), it finds a bit flip injected behind the running server's back in the
// primary copy and another in a mirror copy, rewrites each from the good copy,
// keeps the bad files aside and logs `integrity.scrub_finding` and `integrity.repaired`.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { createMemoryLogger } from '../../src/log.js';
import { startServer } from '../../src/server/server.js';
import { MirroredBlobStore } from '../../src/store/blobs/mirrored-blob-store.js';
import type { SqliteMailStore } from '../../src/store/sqlite/sqlite-store.js';
import { sampleMessage, temporaryDirectory } from '../helpers/temporary-store.js';

async function flipBit(file: string, at: number): Promise<void> {
  const bytes = await fs.readFile(file);
  bytes[at % bytes.length]! ^= 0x10;
  await fs.writeFile(file, bytes);
}

/** Waits for an event; the deadline is a failsafe against a hang, not a timing claim. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('the running server’s scrub finds and repairs bit flips in the primary and in a mirror', { timeout: 180_000 }, async () => {
  const directory = await temporaryDirectory('postkeep-scrub-server-');
  const mirror = path.join(directory, 'second-disk');
  const config = configSchema.parse({
    dataDir: path.join(directory, 'data'),
    store: { blobMirrors: [mirror], scrubDays: 2 / 86_400, scrubMegabytesPerSecond: 100 },
    imap: { port: 0, tlsPort: 0 },
    smtp: { mx: { port: 0 }, submission: { port: 0 }, submissions: { port: 0 } },
    admin: { port: 0 },
  });
  const log = createMemoryLogger();
  const running = await startServer(config, log);
  try {
    const store = running.store as SqliteMailStore;
    await store.admin.addDomain('example.com');
    await store.admin.addAccount('alice@example.com', 'not-a-real-hash');
    const account = await store.account('alice@example.com');
    const messages = [sampleMessage({ size: 4000 }), sampleMessage({ size: 9000 }), sampleMessage({ size: 2000 })];
    const appended: Awaited<ReturnType<typeof account.append>>[] = [];
    for (const bytes of messages) appended.push(await account.append('INBOX', bytes));
    const blobs = store.context.blobs as MirroredBlobStore;
    assert.ok(blobs instanceof MirroredBlobStore);

    // Behind the server's back, between its passes: one flip in the primary, one in the mirror.
    const passes = () => log.events.filter((event) => event.event === 'integrity.scrub_completed').length;
    await eventually(() => passes() >= 1, 'a first scrub pass');
    const [primaryVictim, mirrorVictim] = [appended[0]!.blobHash, appended[1]!.blobHash];
    await flipBit(blobs.pathOf(primaryVictim), 777);
    await flipBit(blobs.mirrors[0]!.pathOf(mirrorVictim), 1234);
    assert.equal(await blobs.verify(primaryVictim), false);
    assert.equal(await blobs.mirrors[0]!.verify(mirrorVictim), false);

    const repaired = (blob: string, copy: string) => log.events.some((event) => event.event === 'integrity.repaired' && event.fields.blob === blob && event.fields.copy === copy);
    await eventually(() => repaired(primaryVictim, blobs.root) && repaired(mirrorVictim, blobs.mirrors[0]!.root), 'both copies repaired by the scrub');
    assert.equal(await blobs.verify(primaryVictim), true);
    assert.equal(await blobs.mirrors[0]!.verify(mirrorVictim), true);
    const findings = log.events.filter((event) => event.event === 'integrity.scrub_finding');
    assert.deepEqual(findings.map((event) => [event.fields.blob, event.fields.state]).sort(), [[primaryVictim, 'mismatch'], [mirrorVictim, 'mismatch']].sort());
    assert.equal((await fs.readdir(path.join(blobs.root, 'quarantine'))).length, 1, 'the bad primary copy is kept aside');
    assert.equal((await fs.readdir(path.join(blobs.mirrors[0]!.root, 'quarantine'))).length, 1, 'the bad mirror copy is kept aside');
    for (const [index, bytes] of messages.entries()) assert.deepEqual(await account.readMessage(appended[index]!.mailboxId, appended[index]!.uid), bytes);
  } finally {
    await running.stop();
    await fs.rm(directory, { recursive: true, force: true });
  }
});
