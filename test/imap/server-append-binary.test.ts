// APPEND: MULTIAPPEND is all or none (RFC 3502 §6.3.11), and a literal8 message with
// NUL in a binary part is stored base64-encoded so BODY[] can be sent (RFC 3516 §4.4),
// while BINARY[] still gives the original bytes. Raw socket, exact bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { login, RawClient, startTestServer } from './server-harness.js';

const header = (subject: string) => `From: bob@example.org\r\nSubject: ${subject}\r\n\r\n`;

test('MULTIAPPEND: when a later message fails, the earlier ones are not kept', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  await client.command('c', 'CREATE Target');
  // Room for two more messages in the account: the third of a MULTIAPPEND is over quota.
  const used = (await server.account.quota()).messages.used;
  await server.store.admin.setQuota(login, { quotaMessages: used + 2 });
  const messages = ['one', 'two', 'three'].map((subject) => header(subject) + `${subject}\r\n`);
  const literals = messages.map((message) => `{${Buffer.byteLength(message)}+}\r\n${message}`).join(' ');
  const failed = await client.command('a1', `APPEND Target ${literals}`);
  assert.match(failed, /^a1 NO \[OVERQUOTA\]/m);
  assert.match(await client.command('s1', 'STATUS Target (MESSAGES)'), /^\* STATUS "?Target"? \(MESSAGES 0\)\r\n/m);
  // The same command within the quota stores all of them, with consecutive UIDs.
  const two = messages.slice(0, 2).map((message) => `{${Buffer.byteLength(message)}+}\r\n${message}`).join(' ');
  assert.match(await client.command('a2', `APPEND Target ${two}`), /^a2 OK \[APPENDUID \d+ \d+:\d+\]/m);
  assert.match(await client.command('s2', 'STATUS Target (MESSAGES)'), /^\* STATUS "?Target"? \(MESSAGES 2\)\r\n/m);
  await client.command('x', 'SELECT Target');
  assert.match(await client.command('f', 'FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])'), /Subject: one\r\n[\s\S]*Subject: two\r\n/);
});

test('APPEND with literal8: a binary part holding NUL is served base64 by BODY[] and as sent by BINARY[]', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  const content = Buffer.from([0x00, 0x2d, 0xe4, 0x0d, 0x0a, 0xff, 0x00]);
  const single = Buffer.concat([
    Buffer.from('From: bob@example.org\r\nMime-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
    content,
  ]);
  const multipart = Buffer.concat([
    Buffer.from('From: bob@example.org\r\nMime-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n'),
    content,
    Buffer.from('\r\n--b--\r\n'),
  ]);
  for (const [tag, message] of [['a1', single], ['a2', multipart]] as const) {
    const reply = await client.command(tag, Buffer.concat([Buffer.from(`APPEND INBOX ~{${message.length}+}\r\n`), message]));
    assert.match(reply, new RegExp(`^${tag} OK`, 'm'), reply);
  }
  await client.command('s', 'SELECT INBOX');

  // BODY[1]: base64 text, no NUL anywhere in the response; BODYSTRUCTURE says BASE64.
  const body = await client.command('f1', 'FETCH 1 (BODY.PEEK[1] BODYSTRUCTURE)');
  assert.ok(!body.includes('\0'), JSON.stringify(body));
  assert.match(body, new RegExp(`BODY\\[1\\] \\{${content.toString('base64').length + 2}\\}\\r\\n${content.toString('base64').replace(/[+/]/g, '\\$&')}\\r\\n`));
  assert.match(body, /BODYSTRUCTURE \("APPLICATION" "OCTET-STREAM" NIL NIL NIL "BASE64"/);
  // BINARY[1] decodes it back: the exact bytes that were appended, as a literal8.
  client.take();
  client.write('f2 FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])\r\n');
  await client.readUntil(/f2 OK[^\r]*\r\n/);
  const raw = Buffer.from(client.take(), 'latin1');
  const start = raw.indexOf(`BINARY[1] ~{${content.length}}\r\n`);
  assert.ok(start >= 0, raw.toString('latin1'));
  const offset = start + `BINARY[1] ~{${content.length}}\r\n`.length;
  assert.deepEqual(raw.subarray(offset, offset + content.length), content);
  assert.match(raw.toString('latin1'), /BINARY\.SIZE\[1\] 7/);

  // In a multipart, only the binary part changes; the text part and the boundaries stay.
  const second = await client.command('f3', 'FETCH 2 (BODY.PEEK[1] BODY.PEEK[2] BINARY.PEEK[2])');
  assert.ok(!second.replace(/BINARY\[2\] ~\{7\}\r\n[\s\S]{7}/, '').includes('\0'));
  assert.match(second, /BODY\[1\] \{5\}\r\nhello /);
  assert.match(second, new RegExp(`BODY\\[2\\] \\{12\\}\\r\\n${content.toString('base64').replace(/[+/]/g, '\\$&')} `));
  assert.match(await client.command('f4', 'FETCH 2 (BODYSTRUCTURE)'), /\(\("TEXT" "PLAIN" NIL NIL NIL "7BIT" 5 1 NIL NIL NIL NIL\)\("APPLICATION" "OCTET-STREAM" NIL NIL NIL "BASE64" 12 /);
});
