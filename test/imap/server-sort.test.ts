// SORT (RFC 5256 §3) address keys, DISPLAYFROM/DISPLAYTO (RFC 5957) and ESORT return
// options (RFC 5267 §3.1), over a raw socket.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawClient, startTestServer } from './server-harness.js';

const message = (headers: string[]) => Buffer.from(headers.join('\r\n') + '\r\n\r\nbody\r\n');

test('SORT by CC/FROM mailbox (groups by name), DISPLAYFROM/DISPLAYTO decoded, DATE falls back to INTERNALDATE', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const append = (headers: string[], minute: number) =>
    server.account.append('INBOX', message(headers), { internalDate: new Date(Date.UTC(2026, 10, 27, 10, minute)) });
  await append(['From: Zed <user2@example.org>', 'To: =?ISO-8859-1?Q?=C9mile?= <e@example.org>', 'Cc: user2@domain2.org (foo bar)', 'Date: Fri, 27 Nov 2026 09:00:00 +0000'], 3);
  await append(['From: =?UTF-8?B?QWRh?= <zz@example.org>', 'To: b@c.d', 'Cc: user2: blah@domain1.org;', 'Date: Fri, 27 Nov 2026 08:00:00 +0000'], 2);
  await append(['From: user1@example.org', 'To: team: x@example.org;', 'Cc: user1@domain1.org'], 1);

  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  await client.command('s', 'SELECT INBOX');
  const sort = async (tag: string, criteria: string): Promise<string> => {
    const reply = await client.command(tag, `SORT ${criteria} UTF-8 ALL`);
    assert.match(reply, new RegExp(`^${tag} OK`, 'm'), reply);
    return /^\* SORT ?(.*)\r\n/m.exec(reply)![1]!;
  };
  // CC: user2 (1), group "user2" (2, not its member "blah"), user1 (3); ties keep sequence order, even reversed.
  assert.equal(await sort('c1', '(CC)'), '3 1 2');
  assert.equal(await sort('c2', '(REVERSE CC)'), '1 2 3');
  assert.equal(await sort('c3', '(CC ARRIVAL)'), '3 2 1');
  // FROM: the mailbox only: user1 < user2 < zz.
  assert.equal(await sort('f1', '(FROM)'), '3 1 2');
  // DISPLAYFROM: decoded names: "Ada" < "user1@example.org" < "Zed".
  assert.equal(await sort('d1', '(DISPLAYFROM)'), '2 3 1');
  // DISPLAYTO: "b@c.d" < "team" (a group's name) < "Émile" (decoded, after ASCII).
  assert.equal(await sort('d2', '(DISPLAYTO)'), '2 3 1');
  assert.equal(await sort('d3', '(REVERSE DISPLAYTO)'), '1 3 2');
  // DATE: 3 has no Date:, so its INTERNALDATE (10:01) is later than 08:00 and 09:00.
  assert.equal(await sort('t1', '(DATE)'), '2 1 3');
  assert.equal(await sort('t2', '(ARRIVAL)'), '3 2 1');
});

test('ESORT: RETURN (MIN MAX ALL COUNT) follow the sort order', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  for (const [subject, minute] of [['delta', 1], ['alpha', 2], ['charlie', 3], ['bravo', 4], ['echo', 5]] as const) {
    await server.account.append('INBOX', message([`Subject: ${subject}`]), { internalDate: new Date(Date.UTC(2026, 10, 27, 10, minute)) });
  }
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  const capability = await client.command('c', 'CAPABILITY');
  assert.match(capability, / ESORT[ \r]/);
  await client.command('s', 'SELECT INBOX');
  // Subject order: alpha(2) bravo(4) charlie(3) delta(1) echo(5).
  assert.match(await client.command('e1', 'SORT RETURN (MIN) (SUBJECT) UTF-8 ALL'), /^\* ESEARCH \(TAG "e1"\) MIN 2\r\n/m);
  assert.match(await client.command('e2', 'SORT RETURN (MAX) (SUBJECT) UTF-8 ALL'), /^\* ESEARCH \(TAG "e2"\) MAX 5\r\n/m);
  assert.match(await client.command('e3', 'SORT RETURN (ALL COUNT) (SUBJECT) UTF-8 ALL'), /^\* ESEARCH \(TAG "e3"\) ALL 2,4,3,1,5 COUNT 5\r\n/m);
  assert.match(await client.command('e4', 'SORT RETURN () (ARRIVAL) UTF-8 ALL'), /^\* ESEARCH \(TAG "e4"\) ALL 1:5\r\n/m);
  assert.match(await client.command('e5', 'SORT RETURN (ALL) (REVERSE ARRIVAL) UTF-8 2:4'), /^\* ESEARCH \(TAG "e5"\) ALL 4,3,2\r\n/m);
  assert.match(await client.command('e6', 'UID SORT RETURN (MIN MAX) (SUBJECT) UTF-8 ALL'), /^\* ESEARCH \(TAG "e6"\) UID MIN 2 MAX 5\r\n/m);
  assert.match(await client.command('e7', 'SORT RETURN (MIN COUNT) (SUBJECT) UTF-8 SUBJECT zulu'), /^\* ESEARCH \(TAG "e7"\) COUNT 0\r\n/m);
  assert.match(await client.command('e8', 'SORT RETURN (NOPE) (SUBJECT) UTF-8 ALL'), /^e8 BAD/m);
});
