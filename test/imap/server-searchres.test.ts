// SEARCHRES (RFC 5182): SEARCH RETURN (SAVE) and `$` in FETCH, STORE, COPY, SEARCH and
// UID commands; and ESEARCH MODSEQ for MIN/MAX (RFC 7162 §3.1.5), over a raw socket.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleMessage } from '../helpers/temporary-store.js';
import { RawClient, startTestServer } from './server-harness.js';

test('SEARCH RETURN (SAVE) keeps a result that $ names until SELECT; expunged messages leave it', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  for (let index = 1; index <= 6; index++) {
    await server.account.append('INBOX', sampleMessage({ subject: index % 2 === 0 ? `even ${index}` : `odd ${index}` }), { flags: index <= 3 ? ['\\Seen'] : [] });
  }
  await server.account.createMailbox('Saved');
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  assert.match(await client.command('c', 'CAPABILITY'), / SEARCHRES[ \r]/);
  await client.command('s', 'SELECT INBOX');

  // SAVE alone answers with no ESEARCH (RFC 5182 §2.1).
  const saved = await client.command('a1', 'SEARCH RETURN (SAVE) SUBJECT even');
  assert.match(saved, /^a1 OK/m);
  assert.doesNotMatch(saved, /ESEARCH|\* SEARCH/);
  assert.match(await client.command('a2', 'FETCH $ (UID)'), /^\* 2 FETCH \(UID 2\)\r\n\* 4 FETCH \(UID 4\)\r\n\* 6 FETCH \(UID 6\)\r\na2 OK/m);
  assert.match(await client.command('a3', 'SEARCH $ UNSEEN'), /^\* SEARCH 4 6\r\n/m);
  assert.match(await client.command('a4', 'UID SEARCH UID $'), /^\* SEARCH 2 4 6\r\n/m);
  assert.match(await client.command('a5', 'STORE $ +FLAGS (\\Flagged)'), /^\* 2 FETCH \(FLAGS \([^)]*\\Flagged[^)]*\)\)\r\n\* 4 FETCH/m);
  assert.match(await client.command('a6', 'SEARCH FLAGGED'), /^\* SEARCH 2 4 6\r\n/m);
  assert.match(await client.command('a7', 'UID COPY $ Saved'), /^a7 OK \[COPYUID \d+ 2,4,6 1:3\]/m);

  // SAVE with other options: the response as usual, the result saved as well.
  assert.match(await client.command('b1', 'SEARCH RETURN (SAVE COUNT) SEEN'), /^\* ESEARCH \(TAG "b1"\) COUNT 3\r\n/m);
  assert.match(await client.command('b2', 'UID SEARCH $'), /^\* SEARCH 1 2 3\r\n/m);
  // SAVE with only MIN and/or MAX saves just those messages (RFC 5182 §2.4).
  assert.match(await client.command('b3', 'SEARCH RETURN (SAVE MIN MAX) UNSEEN'), /^\* ESEARCH \(TAG "b3"\) MIN 4 MAX 6\r\n/m);
  assert.match(await client.command('b4', 'UID SEARCH $'), /^\* SEARCH 4 6\r\n/m);
  assert.match(await client.command('b5', 'SEARCH RETURN (MAX SAVE) ALL'), /^\* ESEARCH \(TAG "b5"\) MAX 6\r\n/m);
  assert.match(await client.command('b6', 'UID SEARCH $'), /^\* SEARCH 6\r\n/m);

  // Expunged messages drop out of $; sequence numbers follow the new view.
  assert.match(await client.command('e1', 'SEARCH RETURN (SAVE) 4:6'), /^e1 OK/m);
  await client.command('e2', 'STORE 5 +FLAGS (\\Deleted)');
  assert.match(await client.command('e3', 'EXPUNGE'), /^\* 5 EXPUNGE\r\n/m);
  assert.match(await client.command('e4', 'FETCH $ (UID)'), /^\* 4 FETCH \(UID 4\)\r\n\* 5 FETCH \(UID 6\)\r\ne4 OK/m);

  // SORT can save too (ESORT with SAVE).
  assert.match(await client.command('o1', 'SORT RETURN (SAVE) (SUBJECT) UTF-8 SUBJECT odd'), /^o1 OK/m);
  assert.match(await client.command('o2', 'UID SEARCH $'), /^\* SEARCH 1 3\r\n/m);

  // A new SELECT starts with an empty result.
  await client.command('s2', 'SELECT INBOX');
  assert.match(await client.command('r1', 'SEARCH $'), /^\* SEARCH\r\n/m);
  assert.match(await client.command('r2', 'FETCH $ (UID)'), /^r2 OK/m);
});

test('ESEARCH MODSEQ: with only MIN or MAX it is that message\'s MODSEQ (RFC 7162 §3.1.5)', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  for (let index = 1; index <= 3; index++) await server.account.append('INBOX', sampleMessage());
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  await client.command('s', 'SELECT INBOX (CONDSTORE)');
  // Flag changes in the order 1, 3, 2: message 2 has the highest MODSEQ.
  const modseqs: Record<number, number> = {};
  for (const sequence of [1, 3, 2]) {
    const reply = await client.command(`f${sequence}`, `STORE ${sequence} +FLAGS (\\Seen)`);
    modseqs[sequence] = Number(/MODSEQ \((\d+)\)/.exec(reply)![1]);
  }
  assert.ok(modseqs[2]! > modseqs[3]! && modseqs[3]! > modseqs[1]!);
  assert.match(await client.command('m1', 'SEARCH RETURN (MIN) MODSEQ 1'), new RegExp(`^\\* ESEARCH \\(TAG "m1"\\) MIN 1 MODSEQ ${modseqs[1]}\\r\\n`, 'm'));
  assert.match(await client.command('m2', 'SEARCH RETURN (MAX) MODSEQ 1'), new RegExp(`^\\* ESEARCH \\(TAG "m2"\\) MAX 3 MODSEQ ${modseqs[3]}\\r\\n`, 'm'));
  assert.match(await client.command('m3', 'SEARCH RETURN (MIN MAX) 1,3 MODSEQ 1'), new RegExp(`^\\* ESEARCH \\(TAG "m3"\\) MIN 1 MAX 3 MODSEQ ${modseqs[3]}\\r\\n`, 'm'));
  assert.match(await client.command('m4', 'SEARCH RETURN (COUNT) MODSEQ 1'), new RegExp(`^\\* ESEARCH \\(TAG "m4"\\) COUNT 3 MODSEQ ${modseqs[2]}\\r\\n`, 'm'));
  assert.match(await client.command('m5', 'SEARCH MODSEQ 1'), new RegExp(`^\\* SEARCH 1 2 3 \\(MODSEQ ${modseqs[2]}\\)\\r\\n`, 'm'));
});
