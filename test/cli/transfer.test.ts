import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

test('import, export and undelete through the command', { timeout: 60_000 }, async () => {
  const root = await temporaryDirectory('postkeep-cli-transfer-');
  const env = { POSTKEEP_DATA: path.join(root, 'data'), POSTKEEP_CONFIG: '' };
  await runCli(['init'], { env });
  await runCli(['domain', 'add', 'example.com'], { env });
  await runCli(['user', 'add', 'alice@example.com'], { env, input: 'correct horse battery\n' });

  const mbox = path.join(root, 'old.mbox');
  const first = 'From: a@example.org\nSubject: one\n\nFirst body\n>From the start\n';
  const second = 'From: b@example.org\nSubject: two\n\nSecond body\n';
  await fs.writeFile(mbox, `From a@example.org Mon Jan  5 10:00:00 2026\n${first}\nFrom b@example.org Tue Jan  6 11:00:00 2026\n${second}`);
  let result = await runCli(['import', 'alice@example.com', mbox], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'mbox: 2 imported, 0 already present, into 1 mailbox(es)\n');
  result = await runCli(['import', 'alice@example.com', mbox], { env });
  assert.equal(result.stdout, 'mbox: 0 imported, 2 already present, into 1 mailbox(es)\n', 're-running adds no duplicates');
  assert.match((await runCli(['import', 'alice@example.com', path.join(root, 'missing')], { env })).stderr, /missing does not exist/);
  assert.match((await runCli(['import', 'nobody@example.com', mbox], { env })).stderr, /there is no account/);

  const exported = path.join(root, 'export');
  result = await runCli(['export', 'alice@example.com', exported], { env });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^2 messages exported/);
  const files = await fs.readdir(path.join(exported, 'cur'));
  const contents = (await Promise.all(files.map((file) => fs.readFile(path.join(exported, 'cur', file), 'utf8')))).sort();
  // The store holds (and export writes) what import stored: the messages with CRLF line ends.
  assert.deepEqual(contents, [first.replace('>From the start', 'From the start'), second].map((message) => message.replace(/\n/g, '\r\n')).sort());
  const dates = (await Promise.all(files.map((file) => fs.stat(path.join(exported, 'cur', file))))).map((stat) => stat.mtime.toISOString()).sort();
  assert.deepEqual(dates, ['2026-01-05T10:00:00.000Z', '2026-01-06T11:00:00.000Z']);

  assert.equal((await runCli(['undelete', 'alice@example.com'], { env })).stdout, '0 messages restored for alice@example.com\n');
  assert.match((await runCli(['undelete', 'alice@example.com', '--since', 'yesterday'], { env })).stderr, /is not a duration/);
  await fs.rm(root, { recursive: true, force: true });
});
