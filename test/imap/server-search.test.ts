import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleMessage } from '../helpers/temporary-store.js';
import { imapflow, RawClient, startTestServer } from './server-harness.js';

test('SEARCH and UID SEARCH: flags, sizes, dates, headers, text, NOT/OR, ESEARCH', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  await server.account.append('INBOX', sampleMessage({ subject: 'Quarterly report', body: 'numbers inside\r\n' }), { flags: ['\\Seen'], internalDate: new Date('2026-10-01T10:00:00Z') });
  await server.account.append('INBOX', sampleMessage({ subject: 'Lunch?', body: 'pizza or sushi\r\n' }), { internalDate: new Date('2026-11-01T10:00:00Z') });
  await server.account.append('INBOX', sampleMessage({ subject: 'Big one', size: 20_000 }), { flags: ['\\Flagged', 'work'], internalDate: new Date('2026-11-20T10:00:00Z') });
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  await client.command('s0', 'SELECT INBOX');
  assert.match(await client.command('s1', 'SEARCH ALL'), /^\* SEARCH 1 2 3\r\n/m);
  assert.match(await client.command('s2', 'SEARCH UNSEEN'), /^\* SEARCH 2 3\r\n/m);
  assert.match(await client.command('s3', 'SEARCH LARGER 10000'), /^\* SEARCH 3\r\n/m);
  assert.match(await client.command('s4', 'SEARCH SINCE 1-Nov-2026 NOT FLAGGED'), /^\* SEARCH 2\r\n/m);
  assert.match(await client.command('s5', 'SEARCH SUBJECT lunch'), /^\* SEARCH 2\r\n/m);
  assert.match(await client.command('s6', 'SEARCH OR BODY sushi KEYWORD work'), /^\* SEARCH 2 3\r\n/m);
  assert.match(await client.command('s7', 'UID SEARCH FROM bob@example.org UID 2:*'), /^\* SEARCH 2 3\r\n/m);
  assert.match(await client.command('s8', 'SEARCH RETURN (MIN MAX COUNT) UNSEEN'), /^\* ESEARCH \(TAG "s8"\) MIN 2 MAX 3 COUNT 2\r\n/m);
  assert.match(await client.command('s9', 'SEARCH CHARSET KOI8-R ALL'), /^s9 NO \[BADCHARSET/m);
  assert.match(await client.command('s10', 'SEARCH TEXT "no such words"'), /^\* SEARCH\r\n/m);

  const flow = imapflow(server);
  await flow.connect();
  t.after(() => flow.close());
  await flow.mailboxOpen('INBOX');
  assert.deepEqual(await flow.search({ seen: false }, { uid: true }), [2, 3]);
});

test('SORT and UID SORT by subject, size, arrival (reversed), with a search key', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  await server.account.append('INBOX', sampleMessage({ subject: 'Re: banana' }), { internalDate: new Date('2026-11-03T10:00:00Z') });
  await server.account.append('INBOX', sampleMessage({ subject: 'apple', size: 5000 }), { internalDate: new Date('2026-11-01T10:00:00Z') });
  await server.account.append('INBOX', sampleMessage({ subject: '[list] Fwd: cherry' }), { flags: ['\\Seen'], internalDate: new Date('2026-11-02T10:00:00Z') });
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  await client.command('o0', 'SELECT INBOX');
  assert.match(await client.command('o1', 'SORT (SUBJECT) UTF-8 ALL'), /^\* SORT 2 1 3\r\n/m);
  assert.match(await client.command('o2', 'SORT (REVERSE SIZE) UTF-8 ALL'), /^\* SORT 2 /m);
  assert.match(await client.command('o3', 'UID SORT (REVERSE ARRIVAL) UTF-8 UNSEEN'), /^\* SORT 1 2\r\n/m);
  assert.match(await client.command('o4', 'SORT (FROM DATE) UTF-8 ALL'), /^\* SORT 1 2 3\r\n/m);
});

test('THREAD REFERENCES and ORDEREDSUBJECT', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  await server.account.append('INBOX', sampleMessage({ subject: 'plans', messageId: '<a@x>' }));
  await server.account.append('INBOX', sampleMessage({ subject: 'other', messageId: '<b@x>' }));
  await server.account.append('INBOX', sampleMessage({ subject: 'Re: plans', messageId: '<c@x>', inReplyTo: '<a@x>' }));
  await server.account.append('INBOX', sampleMessage({ subject: 'Re: plans', messageId: '<d@x>', inReplyTo: '<a@x>' }));
  await server.account.append('INBOX', sampleMessage({ subject: 'Re: Re: plans', messageId: '<e@x>', inReplyTo: '<c@x>' }));
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  await client.command('h0', 'SELECT INBOX');
  assert.match(await client.command('h1', 'THREAD REFERENCES UTF-8 ALL'), /^\* THREAD \(1 \(3 5\)\(4\)\)\(2\)\r\n/m);
  assert.match(await client.command('h2', 'THREAD ORDEREDSUBJECT UTF-8 ALL'), /^\* THREAD \(1 \(3\)\(4\)\(5\)\)\(2\)\r\n/m);
  // Without message 1 its two replies hang from a dummy parent (RFC 5256 §2.2 step 4).
  assert.match(await client.command('h3', 'UID THREAD REFERENCES UTF-8 NOT UID 1'), /^\* THREAD \(2\)\(\(3 5\)\(4\)\)\r\n/m);
});
