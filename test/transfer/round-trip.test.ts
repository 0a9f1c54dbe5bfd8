import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { InvalidInput } from '../../src/errors.js';
import { exportMail } from '../../src/transfer/export.js';
import { importMail } from '../../src/transfer/import.js';
import { listMaildirFolders, listMaildirMessages } from '../../src/transfer/maildir.js';
import { createTemporaryStore, sampleMessage, temporaryDirectory, type TemporaryStore } from '../helpers/temporary-store.js';

let fixture: TemporaryStore;
let work: string;
beforeEach(async () => {
  fixture = await createTemporaryStore();
  work = await temporaryDirectory('postkeep-transfer-');
});
afterEach(async () => {
  await fixture.dispose();
  await fs.rm(work, { recursive: true, force: true });
});

interface SourceFile {
  folder: string;
  subdirectory: 'cur' | 'new';
  name: string;
  bytes: Buffer;
  modified: Date;
}

/** A Maildir++ tree as Dovecot leaves one: several folders, keywords, new and seen mail. */
async function writeDovecotTree(root: string): Promise<SourceFile[]> {
  const files: SourceFile[] = [
    { folder: '', subdirectory: 'cur', name: '1700000001.M1P1.mx:2,RSa', bytes: sampleMessage({ subject: 'replied' }), modified: new Date('2023-11-14T22:13:21Z') },
    { folder: '', subdirectory: 'cur', name: '1700000002.M2P1.mx:2,FSbc', bytes: sampleMessage({ subject: 'flagged' }), modified: new Date('2023-11-14T22:13:22.500Z') },
    { folder: '', subdirectory: 'new', name: '1700000003.M3P1.mx', bytes: sampleMessage({ subject: 'unread' }), modified: new Date('2023-11-14T22:13:23Z') },
    { folder: '.Sent', subdirectory: 'cur', name: '1600000000.M1P2.mx:2,S', bytes: sampleMessage({ subject: 'sent' }), modified: new Date('2020-09-13T12:26:40Z') },
    { folder: '.Lists.Work', subdirectory: 'cur', name: '1500000000.M1P3.mx:2,DT', bytes: sampleMessage({ subject: 'draft', body: 'From here on\r\n' }), modified: new Date('2017-07-14T02:40:00Z') },
    { folder: '.Lists.Work', subdirectory: 'cur', name: '1500000001.M2P3.mx:2,Sa', bytes: Buffer.from('Subject: bare\n\nLF only, no Date\n'), modified: new Date('2017-07-14T02:40:01Z') },
    { folder: '.Entw&APw-rfe', subdirectory: 'cur', name: '1400000000.M1P4.mx:2,', bytes: sampleMessage({ subject: 'Entwurf' }), modified: new Date('2014-05-13T16:53:20Z') },
  ];
  for (const file of files) {
    const directory = path.join(root, file.folder, file.subdirectory);
    await fs.mkdir(directory, { recursive: true });
    await fs.writeFile(path.join(directory, file.name), file.bytes);
    await fs.utimes(path.join(directory, file.name), file.modified, file.modified);
  }
  await fs.writeFile(path.join(root, 'dovecot-keywords'), '0 $Forwarded\n1 Work\n2 $Important\n');
  await fs.writeFile(path.join(root, '.Lists.Work', 'dovecot-keywords'), '0 Later\n');
  await fs.mkdir(path.join(root, '.Empty', 'cur'), { recursive: true });
  return files;
}

/** Folder name → bytes → [sorted flags, mtime], read back with the importer's own reader. */
async function describeTree(root: string): Promise<Map<string, Map<string, [string[], number]>>> {
  const tree = new Map<string, Map<string, [string[], number]>>();
  for (const folder of await listMaildirFolders(root)) {
    const messages = new Map<string, [string[], number]>();
    for (const message of await listMaildirMessages(folder)) {
      messages.set((await fs.readFile(message.file)).toString('latin1'), [[...message.flags].sort(), message.internalDate.getTime()]);
    }
    tree.set(folder.name, messages);
  }
  return tree;
}

test('a Maildir++ tree imports and exports with the same bytes, flags and dates', async () => {
  const source = path.join(work, 'source');
  const files = await writeDovecotTree(source);
  const progress: [number, number | null][] = [];
  const imported = await importMail(fixture.account, source, { onProgress: (done, total) => progress.push([done, total]) });
  assert.deepEqual(imported, { format: 'maildir', imported: files.length, skipped: 0, mailboxes: ['INBOX', 'Empty', 'Entwürfe', 'Lists/Work', 'Sent'] });
  assert.deepEqual(progress.at(-1), [files.length, files.length]);

  const lists = await fixture.account.getMailbox('Lists/Work');
  const records = await fixture.account.fetch(lists.id, { uids: [[1, Infinity]] });
  assert.deepEqual(records.map((record) => [record.flags, record.internalDate.toISOString()]), [
    [['\\Deleted', '\\Draft'], '2017-07-14T02:40:00.000Z'],
    [['Later', '\\Seen'], '2017-07-14T02:40:01.000Z'],
  ]);

  const destination = path.join(work, 'export');
  const exported = await exportMail(fixture.account, destination);
  // The account's own Archive, Drafts, Junk and Trash come along, empty, and so does Lists, the parent the store made.
  assert.deepEqual(exported, { exported: files.length, mailboxes: 10, failed: [] });

  const before = await describeTree(source);
  const after = await describeTree(destination);
  for (const [folder, messages] of before) assert.deepEqual(after.get(folder), messages, folder);
  assert.deepEqual([...after.keys()].sort(), ['Archive', 'Drafts', 'Empty', 'Entwürfe', 'INBOX', 'Junk', 'Lists', 'Lists/Work', 'Sent', 'Trash']);
  assert.ok((await fs.readdir(path.join(destination, '.Entw&APw-rfe', 'cur'))).length === 1);

  // And the export imports into another account as the same mail.
  await fixture.store.admin.addAccount('bob@example.com', 'not-a-real-hash');
  const bob = await fixture.store.account('bob@example.com');
  assert.equal((await importMail(bob, destination)).imported, files.length);
});

test('importing the same tree again adds nothing, but a copy in the source is kept', async () => {
  const source = path.join(work, 'source');
  const files = await writeDovecotTree(source);
  const twin = files[0]!;
  await fs.writeFile(path.join(source, 'cur', '1700000009.M9P1.mx:2,S'), twin.bytes);
  const first = await importMail(fixture.account, source);
  assert.equal(first.imported, files.length + 1);
  const again = await importMail(fixture.account, source);
  assert.deepEqual([again.imported, again.skipped], [0, files.length + 1]);
  const inbox = await fixture.account.getMailbox('INBOX');
  assert.equal(inbox.messages, 4);

  // One more copy in the source than in the mailbox: exactly that one comes in.
  await fs.writeFile(path.join(source, 'cur', '1700000010.M10P1.mx:2,'), twin.bytes);
  const third = await importMail(fixture.account, source);
  assert.deepEqual([third.imported, third.skipped], [1, files.length + 1]);
});

test('an mbox with escaping and a "From " in a body imports the right messages, flags and dates', async () => {
  const bodies = [
    'From: a@example.org\nSubject: one\nStatus: RO\nX-Status: F\n\nFrom the top:\n>From quoted\n\nFrom now on, text.\n',
    'From: b@example.org\nSubject: two\nX-Keywords: $Forwarded\n\nplain\n',
    'From: c@example.org\nDate: Fri, 27 Nov 2026 10:00:00 +0000\nSubject: three\n\nlast\n',
  ];
  const mbox = path.join(work, 'old.mbox');
  await fs.writeFile(
    mbox,
    'From a@example.org Mon Jan  1 10:00:00 2024\n' + bodies[0]!.replace(/^(>*From )/gm, '>$1') + '\n' +
      'From b@example.org Tue Jan  2 10:00:00 2024\n' + bodies[1] + '\n' +
      'From c@example.org\n' + bodies[2] + '\n',
  );
  const result = await importMail(fixture.account, mbox, { mailbox: 'Old/2024' });
  assert.deepEqual(result, { format: 'mbox', imported: 3, skipped: 0, mailboxes: ['Old/2024'] });
  const mailbox = await fixture.account.getMailbox('Old/2024');
  const records = await fixture.account.fetch(mailbox.id, { uids: [[1, Infinity]] });
  assert.deepEqual(records.map((record) => record.flags), [['\\Flagged', '\\Seen'], ['$Forwarded'], []]);
  assert.deepEqual(records.map((record) => record.internalDate.toISOString()), ['2024-01-01T10:00:00.000Z', '2024-01-02T10:00:00.000Z', '2026-11-27T10:00:00.000Z']);
  // Stored as RFC 5322: CRLF line ends, and without the fields that became flags.
  const stored = bodies.map((body) => body.replace(/^(Status|X-Status|X-Keywords): .*\n/gm, '').replace(/\n/g, '\r\n'));
  for (const [index, record] of records.entries()) {
    assert.equal((await fixture.account.readMessage(mailbox.id, record.uid)).toString(), stored[index]);
  }
  assert.deepEqual(await importMail(fixture.account, mbox, { mailbox: 'Old/2024' }), { format: 'mbox', imported: 0, skipped: 3, mailboxes: ['Old/2024'] });
  // Without the option it goes to INBOX, where none of it is yet.
  assert.equal((await importMail(fixture.account, mbox)).imported, 3);
});

test('a corrupt blob is reported by export and the rest is still written', async () => {
  const good = sampleMessage({ subject: 'good' });
  await fixture.account.append('INBOX', good, { flags: ['\\Seen'] });
  const bad = await fixture.account.append('INBOX', sampleMessage({ subject: 'bad' }));
  await fixture.account.append('Sent', sampleMessage({ subject: 'sent' }));
  const blob = path.join(fixture.dataDir, 'blobs', bad.blobHash.slice(0, 2), bad.blobHash);
  await fs.access(blob);
  await fs.writeFile(blob, 'Subject: not what was stored\r\n\r\n');

  const destination = path.join(work, 'export');
  const result = await exportMail(fixture.account, destination);
  assert.equal(result.exported, 2);
  assert.equal(result.failed.length, 1);
  assert.equal(result.failed[0]!.mailbox, 'INBOX');
  assert.equal(result.failed[0]!.uid, bad.uid);
  assert.match(result.failed[0]!.reason, /verification/);
  const tree = await describeTree(destination);
  assert.deepEqual([...tree.get('INBOX')!.keys()], [good.toString('latin1')]);
  assert.equal(tree.get('Sent')!.size, 1);
});

test('export reports progress and refuses a destination that already holds files', async () => {
  await fixture.account.append('INBOX', sampleMessage());
  await fixture.account.append('Junk', sampleMessage());
  const progress: [number, number][] = [];
  const destination = path.join(work, 'export');
  await exportMail(fixture.account, destination, { onProgress: (done, total) => progress.push([done, total]) });
  assert.deepEqual(progress, [[1, 2], [2, 2]]);
  await assert.rejects(exportMail(fixture.account, destination), (error) => error instanceof InvalidInput && error.message.includes(destination) && /not empty/.test(error.message));
  const file = path.join(work, 'a-file');
  await fs.writeFile(file, 'x');
  await assert.rejects(exportMail(fixture.account, file), (error) => error instanceof InvalidInput && /not a directory/.test(error.message));
});

test('bad input gets InvalidInput naming the path and what was expected', async () => {
  const missing = path.join(work, 'nowhere');
  const empty = path.join(work, 'empty.mbox');
  const text = path.join(work, 'notes.txt');
  const folder = path.join(work, 'folder');
  await fs.writeFile(empty, '');
  await fs.writeFile(text, 'Just some notes.\nFrom me.\n');
  await fs.mkdir(path.join(folder, 'subfolder'), { recursive: true });
  const cases: [string, RegExp][] = [
    [missing, /does not exist; expected an mbox file or a Maildir directory/],
    [empty, /is empty; expected an mbox file/],
    [text, /is not an mbox file \(it does not start with "From "\) and not a Maildir directory/],
    [folder, /is a directory but not a Maildir: expected cur\/ and new\//],
  ];
  for (const [source, pattern] of cases) {
    await assert.rejects(importMail(fixture.account, source), (error) => {
      assert.ok(error instanceof InvalidInput, String(error));
      assert.ok(error.message.startsWith(source), error.message);
      assert.match(error.message, pattern);
      return true;
    });
  }
  assert.equal((await fixture.account.getMailbox('INBOX')).messages, 0);
});
