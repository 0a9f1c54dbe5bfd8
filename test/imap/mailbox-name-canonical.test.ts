// A mailbox name in modified UTF-7 must be the canonical spelling of what it decodes to
// (RFC 3501 §5.1.3, RFC 9051 §5.1.3: printable ASCII represents itself). `&AC4ALgAv-`
// is "../" in base64; `&AEkATgBCAE8AWA-` is INBOX. Every command that names a mailbox
// answers such a name NO [CANNOT], as for any invalid name (issue 11 item 10).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RawClient, startTestServer, type TestServer } from './server-harness.js';

let server: TestServer;
let client: RawClient;

before(async () => {
  server = await startTestServer();
  client = await RawClient.connect(server);
  await client.login();
});

after(async () => {
  client.close();
  await server.stop();
});

const dotDotSlash = '&AC4ALgAv-';
const inboxInBase64 = '&AEkATgBCAE8AWA-';

test('CREATE and RENAME refuse a name spelled in base64, and nothing is created', async () => {
  assert.match(await client.command('c1', `CREATE "${dotDotSlash}x"`), /^c1 NO \[CANNOT\]/m);
  assert.match(await client.command('c2', 'CREATE "&AGEAYgBj-"'), /^c2 NO \[CANNOT\]/m); // "abc"
  assert.match(await client.command('c3', 'CREATE "a&AC8-b"'), /^c3 NO \[CANNOT\]/m); // "a/b"
  assert.match(await client.command('c4', 'CREATE "&ACY-"'), /^c4 NO \[CANNOT\]/m); // "&", canonically "&-"
  assert.match(await client.command('c5', 'CREATE "&AOQ-&APw-"'), /^c5 NO \[CANNOT\]/m); // a null shift
  assert.match(await client.command('r1', `RENAME Trash "${dotDotSlash}y"`), /^r1 NO \[CANNOT\]/m);
  assert.match(await client.command('r2', `RENAME "&AFQAcgBhAHMAaA-" Bin`), /^r2 NO \[CANNOT\]/m); // "Trash"
  const names = (await server.account.listMailboxes()).map((mailbox) => mailbox.name);
  assert.deepEqual(names.filter((name) => /\.\.|abc|a\/b|^&$|äü|Bin|y$/.test(name)), []);
  assert.ok(names.includes('Trash'));
});

test('SELECT, EXAMINE, STATUS and APPEND refuse another spelling of an existing mailbox', async () => {
  assert.match(await client.command('s1', `SELECT "${inboxInBase64}"`), /^s1 NO \[CANNOT\]/m);
  assert.match(await client.command('s2', `EXAMINE "${inboxInBase64}"`), /^s2 NO \[CANNOT\]/m);
  assert.match(await client.command('s3', `STATUS "${inboxInBase64}" (MESSAGES)`), /^s3 NO \[CANNOT\]/m);
  const message = 'Subject: hi\r\n\r\nhello\r\n';
  assert.match(await client.command('a1', `APPEND "${inboxInBase64}" {${message.length}+}\r\n${message}`), /^a1 NO \[CANNOT\]/m);
  assert.equal((await server.account.getMailbox('INBOX')).messages, 0);
});

test('canonical names, with "&-" and base64 runs, still work', async () => {
  assert.match(await client.command('k1', 'CREATE "Tom &- Jerry/Entw&APw-rfe"'), /^k1 OK/m);
  assert.match(await client.command('k2', 'SELECT "Tom &- Jerry/Entw&APw-rfe"'), /^k2 OK/m);
  assert.match(await client.command('k3', 'LIST "" "Tom*"'), /^\* LIST \([^)]*\) "\/" "Tom &- Jerry\/Entw&APw-rfe"\r\n/m);
  assert.ok((await server.account.listMailboxes()).some((mailbox) => mailbox.name === 'Tom & Jerry/Entwürfe'));
});
