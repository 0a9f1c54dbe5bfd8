import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { isMaildir, listMaildirFolders, listMaildirMessages, MaildirFolderWriter } from '../../src/transfer/maildir.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

let root: string;
beforeEach(async () => (root = await temporaryDirectory('postkeep-maildir-')));
afterEach(() => fs.rm(root, { recursive: true, force: true }));

async function put(file: string, text: string, modified?: Date): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
  if (modified) await fs.utimes(file, modified, modified);
}

test('a Maildir++ tree: the root is INBOX, dotted folders are levels, names are modified UTF-7', async () => {
  await fs.mkdir(path.join(root, 'cur'), { recursive: true });
  await fs.mkdir(path.join(root, '.Sent', 'new'), { recursive: true });
  await fs.mkdir(path.join(root, '.Lists.Work', 'cur'), { recursive: true });
  await fs.mkdir(path.join(root, '.Entw&APw-rfe', 'cur'), { recursive: true });
  await fs.mkdir(path.join(root, '.Broken&name', 'cur'), { recursive: true });
  await fs.mkdir(path.join(root, '.NotAFolder'), { recursive: true });
  await put(path.join(root, '.hidden-file'), '');
  const folders = await listMaildirFolders(root);
  assert.deepEqual(
    folders.map((folder) => folder.name),
    ['INBOX', 'Broken&name', 'Entwürfe', 'Lists/Work', 'Sent'],
  );
  assert.equal(folders[3]!.directory, path.join(root, '.Lists.Work'));
  assert.equal(await isMaildir(root), true);
});

test('a tree with only Maildir++ folders is a Maildir; one with neither is not', async () => {
  assert.equal(await isMaildir(root), false);
  await fs.mkdir(path.join(root, '.Sent', 'cur'), { recursive: true });
  assert.equal(await isMaildir(root), true);
  assert.deepEqual((await listMaildirFolders(root)).map((folder) => folder.name), ['Sent']);
});

test('flags come from the info suffix, keywords from dovecot-keywords, dates from mtime', async () => {
  await fs.writeFile(path.join(root, 'dovecot-keywords'), '0 $Forwarded\n1 Work\n3 later\n');
  await put(path.join(root, 'cur', '1700000000.M1P1.host,S=10:2,FRSab'), 'one', new Date('2023-11-14T22:13:20.250Z'));
  await put(path.join(root, 'cur', '1600000000.M2P1.host:2,DPTcd'), 'two', new Date('2020-09-13T12:26:40Z'));
  await put(path.join(root, 'cur', '1500000000.M3P1.host'), 'three', new Date('2017-07-14T02:40:00Z'));
  await put(path.join(root, 'new', '1800000000.M4P1.host'), 'four', new Date('2027-01-15T08:00:00Z'));
  await put(path.join(root, 'new', '1800000001.M5P1.host:2,SF'), 'five', new Date('2027-01-15T08:00:01Z'));
  await put(path.join(root, 'tmp', '1800000002.M6P1.host'), 'not delivered yet', new Date('2027-01-15T08:00:02Z'));
  const messages = await listMaildirMessages({ name: 'INBOX', directory: root });
  assert.deepEqual(
    messages.map((message) => [path.basename(message.file), [...message.flags].sort(), message.internalDate.toISOString()]),
    [
      ['1500000000.M3P1.host', [], '2017-07-14T02:40:00.000Z'],
      // P (passed) has no IMAP flag; c has no name in dovecot-keywords.
      ['1600000000.M2P1.host:2,DPTcd', ['\\Deleted', '\\Draft', 'later'], '2020-09-13T12:26:40.000Z'],
      ['1700000000.M1P1.host,S=10:2,FRSab', ['$Forwarded', 'Work', '\\Answered', '\\Flagged', '\\Seen'], '2023-11-14T22:13:20.250Z'],
      ['1800000000.M4P1.host', [], '2027-01-15T08:00:00.000Z'],
      // In new/: not seen yet, whatever the name says.
      ['1800000001.M5P1.host:2,SF', ['\\Flagged'], '2027-01-15T08:00:01.000Z'],
    ],
  );
});

test('a written folder has tmp/new/cur, named files with their mtime, and its keywords', async () => {
  const folder = await MaildirFolderWriter.create(root, 'Lists/v1.2/Entwürfe', ['Work', '$Forwarded']);
  const date = new Date('2024-02-29T12:34:56.789Z');
  await folder.write(Buffer.from('Subject: a\r\n\r\nA\r\n'), { uid: 7, uidValidity: 1234, flags: ['$Forwarded', '\\Seen', '\\Answered', 'Work', 'unlettered'], internalDate: date });
  await folder.write(Buffer.from('Subject: b\r\n\r\nB\r\n'), { uid: 9, uidValidity: 1234, flags: [], internalDate: date });
  await folder.close();

  const directory = path.join(root, '.Lists.v1&AC4-2.Entw&APw-rfe');
  assert.deepEqual((await fs.readdir(directory)).sort(), ['cur', 'dovecot-keywords', 'maildirfolder', 'new', 'tmp']);
  assert.deepEqual(await fs.readdir(path.join(directory, 'tmp')), []);
  assert.deepEqual((await fs.readdir(path.join(directory, 'cur'))).sort(), ['1709210096.7_1234.postkeep:2,RSab', '1709210096.9_1234.postkeep:2,']);
  assert.equal(await fs.readFile(path.join(directory, 'dovecot-keywords'), 'utf8'), '0 Work\n1 $Forwarded\n');
  const stat = await fs.stat(path.join(directory, 'cur', '1709210096.7_1234.postkeep:2,RSab'));
  assert.equal(stat.mtime.getTime(), date.getTime());

  const [read] = await listMaildirFolders(root);
  assert.equal(read!.name, 'Lists/v1.2/Entwürfe');
  const messages = await listMaildirMessages(read!);
  assert.deepEqual(messages.map((message) => [...message.flags].sort()), [['$Forwarded', 'Work', '\\Answered', '\\Seen'], []]);
});

test('INBOX is written at the root, without the Maildir++ folder marker', async () => {
  const folder = await MaildirFolderWriter.create(root, 'INBOX', []);
  await folder.close();
  assert.deepEqual((await fs.readdir(root)).sort(), ['cur', 'new', 'tmp']);
  assert.deepEqual(await listMaildirFolders(root), [{ name: 'INBOX', directory: root }]);
});
