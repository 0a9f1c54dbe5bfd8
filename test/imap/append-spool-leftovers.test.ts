// Spool files a crash left in `<dataDir>/imap-spool` (issue 11 item 5): the server removes
// them at start, audit reports them (a notice: they were never acknowledged), and neither
// touches a literal that a live process is still writing.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { auditStore } from '../../src/integrity/audit.js';
import { RawClient } from './server-harness.js';
import { messageOfSize, send, startSpoolServer, type SpoolServer } from './spool-server.js';

let server: SpoolServer;
// No process can have a pid above pid_max.
let deadPid: number;
const hourAgo = new Date(Date.now() - 3600_000);

const names = () => ({
  crashed: `postkeep-append-${deadPid}-1.tmp`,
  // A container restarts the server with the same pid: a file of our own pid at start is a leftover too.
  samePid: `postkeep-append-${process.pid}-7.tmp`,
  // pid 1 is alive (not ours): maybe another server's upload, so start leaves it; audit notes it once it is old.
  otherLive: 'postkeep-append-1-3.tmp',
});

before(async () => {
  deadPid = Number((await fs.readFile('/proc/sys/kernel/pid_max', 'utf8')).trim()) + 1;
  server = await startSpoolServer({
    async beforeStart(spoolDirectory) {
      await fs.mkdir(spoolDirectory, { recursive: true });
      for (const name of Object.values(names())) await fs.writeFile(path.join(spoolDirectory, name), Buffer.alloc(100_000, 'z'));
      await fs.utimes(path.join(spoolDirectory, names().otherLive), hourAgo, hourAgo);
    },
  });
});

after(async () => {
  await server.stop();
});

test('at start, the spool files of a crashed server are removed (and logged); a live process’s is left', async () => {
  const left = await fs.readdir(server.spoolDirectory);
  assert.deepEqual(left, [names().otherLive]);
  const removed = server.log.events.filter((entry) => entry.event === 'imap.spool_leftover_removed').map((entry) => entry.fields.file);
  assert.deepEqual(removed.sort(), [names().crashed, names().samePid].sort());
});

test('audit notices leftover spool files; --repair removes the ones whose writer is gone; a live upload is not reported', async () => {
  const leftover = `postkeep-append-${deadPid}-99.tmp`;
  await fs.writeFile(path.join(server.spoolDirectory, leftover), Buffer.alloc(5000, 'z'));
  // An upload in progress: its spool file is fresh and its writer (this process) alive.
  const client = await RawClient.connect(server);
  await client.login();
  const message = messageOfSize(2 * 1024 * 1024);
  await send(client, `U1 APPEND INBOX {${message.length}}\r\n`);
  await client.readUntil(/^\+ /m);
  await send(client, message.subarray(0, 1024 * 1024));
  for (let attempt = 0; attempt < 300 && (await fs.readdir(server.spoolDirectory)).length < 3; attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
  const live = (await fs.readdir(server.spoolDirectory)).find((name) => name.startsWith(`postkeep-append-${process.pid}-`));
  assert.ok(live, 'the upload’s spool file');

  const report = await auditStore(server.store);
  const spoolFindings = report.findings.filter((finding) => finding.kind === 'imap.spool_leftover');
  assert.deepEqual(spoolFindings.map((finding) => finding.where).sort(), [`imap-spool/${leftover}`, `imap-spool/${names().otherLive}`].sort());
  assert.ok(spoolFindings.every((finding) => finding.severity === 'notice'));
  assert.match(spoolFindings.find((finding) => finding.where.endsWith(leftover))!.detail, /5000 bytes.*is gone/);
  assert.equal(report.ok, true, 'notices do not fail the audit');

  const repaired = await auditStore(server.store, { repair: true });
  assert.equal(repaired.findings.find((finding) => finding.where.endsWith(leftover))?.repair, 'repaired');
  assert.deepEqual((await fs.readdir(server.spoolDirectory)).sort(), [live, names().otherLive].sort());

  await send(client, Buffer.concat([message.subarray(1024 * 1024), Buffer.from('\r\n')]));
  assert.match(await client.response('U1'), /U1 OK \[APPENDUID /);
  client.close();
});
