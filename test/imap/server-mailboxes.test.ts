import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imapflow, RawClient, startTestServer } from './server-harness.js';

test('imapflow: LIST with special-use, CREATE, RENAME, DELETE, SUBSCRIBE and STATUS', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const client = imapflow(server);
  await client.connect();
  t.after(() => client.close());
  const initial = await client.list();
  const uses = Object.fromEntries(initial.map((mailbox) => [mailbox.path, mailbox.specialUse ?? null]));
  assert.deepEqual(uses, { Archive: '\\Archive', Drafts: '\\Drafts', INBOX: '\\Inbox', Junk: '\\Junk', Sent: '\\Sent', Trash: '\\Trash' });

  await client.mailboxCreate('Projects/Älpha');
  await client.mailboxRename('Projects/Älpha', 'Projects/Beta');
  const names = (await client.list()).map((mailbox) => mailbox.path).sort();
  assert.ok(names.includes('Projects/Beta'));
  assert.ok(!names.includes('Projects/Älpha'));
  await client.mailboxSubscribe('Projects/Beta');
  const subscribed = (await client.list({ statusQuery: { messages: true, uidNext: true } })).find((mailbox) => mailbox.path === 'Projects/Beta');
  assert.equal(subscribed?.subscribed, true);
  assert.equal(subscribed?.status?.messages, 0);
  await client.mailboxDelete('Projects/Beta');
  assert.ok(!(await client.list()).some((mailbox) => mailbox.path === 'Projects/Beta'));

  await client.append('INBOX', 'Subject: hi\r\n\r\nhello\r\n', ['\\Seen']);
  const status = await client.status('INBOX', { messages: true, unseen: true, uidNext: true, uidValidity: true, highestModseq: true });
  assert.ok(status);
  assert.equal(status.messages, 1);
  assert.equal(status.unseen, 0);
  assert.equal(status.uidNext, 2);
  assert.ok(Number(status.highestModseq) > 0);
});

test('raw: LIST patterns, LSUB, NAMESPACE, modified UTF-7 names until UTF8=ACCEPT', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  assert.match(await client.command('n1', 'NAMESPACE'), /^\* NAMESPACE \(\("" "\/"\)\) NIL NIL\r\n/m);
  assert.match(await client.command('n2', 'LIST "" ""'), /^\* LIST \(\\Noselect\) "\/" ""\r\n/m);
  assert.match(await client.command('n3', 'CREATE "&AMQ-rger/Sub"'), /n3 OK/);
  const percent = await client.command('n4', 'LIST "" %');
  assert.match(percent, /^\* LIST \(\\HasChildren\) "\/" "&AMQ-rger"\r\n/m);
  assert.doesNotMatch(percent, /Sub/);
  assert.match(await client.command('n5', 'LIST "" "*Sub"'), /^\* LIST \(\\HasNoChildren\) "\/" "&AMQ-rger\/Sub"\r\n/m);
  assert.match(await client.command('n6', 'LIST "" inbox'), /^\* LIST \(\\HasNoChildren\) "\/" "INBOX"\r\n/m);
  assert.match(await client.command('n7', 'LSUB "" "*"'), /^\* LSUB \(\) "\/" "Sent"\r\n/m);
  assert.match(await client.command('n8', 'LIST (SPECIAL-USE) "" "*"'), /^\* LIST \(\\HasNoChildren \\Trash\) "\/" "Trash"\r\n/m);
  assert.match(await client.command('n9', 'ENABLE UTF8=ACCEPT'), /^\* ENABLED UTF8=ACCEPT\r\n/m);
  assert.match(Buffer.from(await client.command('n10', 'LIST "" "*Sub"'), 'latin1').toString('utf8'), /^\* LIST \(\\HasNoChildren\) "\/" "Ärger\/Sub"\r\n/m);
  assert.match(await client.command('n11', 'CREATE INBOX'), /n11 NO \[ALREADYEXISTS\]/);
  assert.match(await client.command('n12', 'DELETE INBOX'), /n12 NO/);
  assert.match(await client.command('n13', 'STATUS INBOX (MESSAGES SIZE DELETED MAILBOXID)'), /^\* STATUS "INBOX" \(MESSAGES 0 SIZE 0 DELETED 0 MAILBOXID \([^)]+\)\)\r\n/m);
});
