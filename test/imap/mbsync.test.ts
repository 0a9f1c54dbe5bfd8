// mbsync (Debian package isync) against a real Postkeep server over implicit TLS, the
// self-signed certificate trusted through CertificateFile: a 500-message INBOX syncs to a
// local Maildir, then flag changes and deletions made on either side reach the other side
// at the next sync, and both sides end up in exactly the expected state.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { login, password, startTestServer, type TestServer } from './server-harness.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

const mbsync = '/usr/bin/mbsync';
const messageCount = 500;

// Maildir info letters (maildir spec, "2," part) and the IMAP flags mbsync maps them to.
const maildirFlags: Record<string, string> = { D: '\\Draft', F: '\\Flagged', R: '\\Answered', S: '\\Seen', T: '\\Deleted' };

function message(index: number): Buffer {
  return Buffer.from(
    [
      `From: "Sender ${index % 17}" <sender${index % 17}@example.org>`,
      `To: ${login}`,
      `Subject: mbsync message ${index}`,
      `Date: ${new Date(Date.UTC(2026, 0, 1) + index * 60_000).toUTCString().replace('GMT', '+0000')}`,
      `Message-ID: <mbsync-${index}@example.org>`,
      '',
      `Body of message ${index}.`,
      'x'.repeat(index % 200),
      '',
    ].join('\r\n'),
  );
}

/** The flags each message starts with on the server. */
function initialFlags(index: number): string[] {
  const flags: string[] = [];
  if (index % 3 === 0) flags.push('\\Seen');
  if (index % 7 === 0) flags.push('\\Flagged');
  if (index % 11 === 0) flags.push('\\Answered');
  return flags.sort();
}

function run(command: string, args: string[], environment: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Message number (from its Message-ID) → sorted IMAP flags, for every file of the local Maildir. */
async function localState(maildir: string): Promise<Map<number, string[]>> {
  const state = new Map<number, string[]>();
  for (const folder of ['cur', 'new']) {
    for (const name of await fs.readdir(path.join(maildir, folder))) {
      const content = await fs.readFile(path.join(maildir, folder, name), 'latin1');
      const index = Number(/Message-ID: <mbsync-(\d+)@example\.org>/.exec(content)![1]);
      assert.ok(!state.has(index), `message ${index} is in the Maildir twice`);
      const info = /:2,([A-Za-z]*)$/.exec(name)?.[1] ?? '';
      state.set(index, [...info].filter((letter) => maildirFlags[letter]).map((letter) => maildirFlags[letter]!).sort());
    }
  }
  return state;
}

/** The same for the server's INBOX, through the store. */
async function serverState(server: TestServer): Promise<Map<number, string[]>> {
  const inbox = await server.account.getMailbox('INBOX');
  const records = await server.account.fetch(inbox.id, { uids: [[1, Infinity]], withStructure: true });
  const state = new Map<number, string[]>();
  for (const record of records) {
    const index = Number(/^<?mbsync-(\d+)@example\.org>?$/.exec(record.structure!.messageId!)![1]);
    state.set(index, [...record.flags].sort());
  }
  return state;
}

/** Finds the local file of message `index`. */
async function localFile(maildir: string, index: number): Promise<string> {
  for (const folder of ['cur', 'new']) {
    for (const name of await fs.readdir(path.join(maildir, folder))) {
      const file = path.join(maildir, folder, name);
      if ((await fs.readFile(file, 'latin1')).includes(`Message-ID: <mbsync-${index}@example.org>`)) return file;
    }
  }
  throw new Error(`message ${index} is not in the Maildir`);
}

/** Renames a Maildir file to carry exactly `flags` (letters), moving it to cur/ as mail readers do. */
async function setLocalFlags(file: string, letters: string): Promise<void> {
  const base = path.basename(file).replace(/:2,[A-Za-z]*$/, '');
  const target = path.join(path.dirname(path.dirname(file)), 'cur', `${base}:2,${[...letters].sort().join('')}`);
  await fs.rename(file, target);
}

function lettersOf(flags: readonly string[]): string {
  return Object.entries(maildirFlags)
    .filter(([, flag]) => flags.includes(flag))
    .map(([letter]) => letter)
    .join('');
}

let server: TestServer;
let directory: string;

before(async () => {
  assert.ok(existsSync(mbsync), 'mbsync is missing: apt-get install -y isync (.ci/run installs it)');
  server = await startTestServer();
  directory = await temporaryDirectory('postkeep-mbsync-');
  const inbox = 'INBOX';
  // Appended in parallel batches: the store's group commit shares the fsyncs.
  for (let start = 0; start < messageCount; start += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, messageCount - start) }, (_, offset) => {
        const index = start + offset;
        return server.account.append(inbox, message(index), { flags: initialFlags(index), internalDate: new Date(Date.UTC(2026, 0, 1) + index * 60_000) });
      }),
    );
  }
});

after(async () => {
  await server?.stop();
  if (directory) await fs.rm(directory, { recursive: true, force: true });
});

test('mbsync syncs 500 messages over TLS, then flags and deletions both ways', async () => {
  const maildir = path.join(directory, 'mail', 'INBOX');
  const configFile = path.join(directory, 'mbsyncrc');
  await fs.writeFile(
    configFile,
    [
      'IMAPAccount postkeep',
      'Host 127.0.0.1',
      `Port ${server.tlsPort}`,
      `User ${login}`,
      `Pass "${password}"`,
      'SSLType IMAPS',
      `CertificateFile ${path.join(server.dataDir, 'tls', 'cert.pem')}`,
      'AuthMechs LOGIN',
      '',
      'IMAPStore remote',
      'Account postkeep',
      '',
      'MaildirStore local',
      `Path ${path.join(directory, 'mail')}/`,
      `Inbox ${maildir}`,
      '',
      'Channel inbox',
      'Far :remote:INBOX',
      'Near :local:INBOX',
      'Create Near',
      'Sync All',
      'Expunge Both',
      `SyncState ${path.join(directory, 'state')}/`,
      '',
    ].join('\n'),
  );
  await fs.mkdir(path.join(directory, 'state'), { recursive: true });
  await fs.mkdir(path.join(directory, 'mail'), { recursive: true });
  const sync = async () => {
    const result = await run(mbsync, ['-c', configFile, 'inbox'], { ...process.env, HOME: directory });
    assert.equal(result.code, 0, `mbsync failed:\n${result.output}`);
  };

  // 1. The first sync copies every message with its flags.
  await sync();
  const expected = new Map<number, string[]>();
  for (let index = 0; index < messageCount; index++) expected.set(index, initialFlags(index));
  assert.deepEqual(await localState(maildir), expected);
  assert.deepEqual(await serverState(server), expected);
  // The message arrives whole: mbsync stores LF line ends and adds its X-TUID header.
  const local = (await fs.readFile(await localFile(maildir, 42), 'latin1')).replace(/^X-TUID: .*\n/m, '');
  assert.equal(local, message(42).toString('latin1').replace(/\r\n/g, '\n'));

  // 2. Changes on the server: flags set and cleared, messages expunged.
  const inbox = await server.account.getMailbox('INBOX');
  const uidOf = new Map<number, number>();
  for (const record of await server.account.fetch(inbox.id, { uids: [[1, Infinity]], withStructure: true })) {
    uidOf.set(Number(/mbsync-(\d+)@/.exec(record.structure!.messageId!)![1]), record.uid);
  }
  const uids = (indexes: number[]) => indexes.map((index) => [uidOf.get(index)!, uidOf.get(index)!] as [number, number]);
  const serverFlagged = [1, 2, 4, 5];
  const serverUnseen = [3, 6, 9];
  const serverDeleted = [10, 20, 30];
  await server.account.updateFlags(inbox.id, uids(serverFlagged), { mode: 'add', flags: ['\\Flagged'] });
  await server.account.updateFlags(inbox.id, uids(serverUnseen), { mode: 'remove', flags: ['\\Seen'] });
  await server.account.updateFlags(inbox.id, uids(serverDeleted), { mode: 'add', flags: ['\\Deleted'] });
  await server.account.expunge(inbox.id, uids(serverDeleted));
  for (const index of serverFlagged) expected.set(index, [...new Set([...expected.get(index)!, '\\Flagged'])].sort());
  for (const index of serverUnseen) expected.set(index, expected.get(index)!.filter((flag) => flag !== '\\Seen'));
  for (const index of serverDeleted) expected.delete(index);

  // 3. Changes in the Maildir, on other messages: flags set and cleared, files deleted.
  const localSeen = [100, 101, 103];
  const localUnflagged = [105, 112, 119];
  const localReplied = [200];
  const localDeleted = [300, 301, 302, 303];
  for (const index of localSeen) {
    expected.set(index, [...new Set([...expected.get(index)!, '\\Seen'])].sort());
    await setLocalFlags(await localFile(maildir, index), lettersOf(expected.get(index)!));
  }
  for (const index of localUnflagged) {
    expected.set(index, expected.get(index)!.filter((flag) => flag !== '\\Flagged'));
    await setLocalFlags(await localFile(maildir, index), lettersOf(expected.get(index)!));
  }
  for (const index of localReplied) {
    expected.set(index, [...new Set([...expected.get(index)!, '\\Answered'])].sort());
    await setLocalFlags(await localFile(maildir, index), lettersOf(expected.get(index)!));
  }
  for (const index of localDeleted) {
    await fs.rm(await localFile(maildir, index));
    expected.delete(index);
  }

  // 4. The next sync carries each side's changes to the other; both end up identical.
  await sync();
  assert.deepEqual(await serverState(server), expected);
  assert.deepEqual(await localState(maildir), expected);
  assert.equal(expected.size, messageCount - serverDeleted.length - localDeleted.length);

  // 5. A third sync finds nothing left to do.
  await sync();
  assert.deepEqual(await serverState(server), expected);
  assert.deepEqual(await localState(maildir), expected);
});
