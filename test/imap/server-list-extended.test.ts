// LIST-EXTENDED RECURSIVEMATCH and CHILDINFO (RFC 5258 §3), LSUB's \Noselect for an
// unsubscribed level above a subscribed one (RFC 3501 §6.3.9), and names that are not
// modified UTF-7 (RFC 3501 §5.1.3), over a raw socket.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawClient, startTestServer } from './server-harness.js';

/** The untagged lines of a reply, without the tagged one. */
function lines(reply: string): string[] {
  return reply.split('\r\n').filter((line) => line.startsWith('* '));
}

test('LIST (SUBSCRIBED RECURSIVEMATCH) gives CHILDINFO to a level whose subscribed descendants the pattern misses', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  for (const name of ['top/a', 'top/b/one', 'top/c/two', 'top/c/three', 'top/d', 'gone/child']) assert.match(await client.command('c', `CREATE ${name}`), /^c OK/m);
  for (const name of ['top/a', 'top/b/one', 'top/c/two', 'top/c', 'gone/child']) assert.match(await client.command('s', `SUBSCRIBE ${name}`), /^s OK/m);
  // A subscription outlives its mailbox (RFC 9051 §6.3.7).
  assert.match(await client.command('d', 'DELETE gone/child'), /^d OK/m);

  // "top/%": a is subscribed; b is not but its child is; c is subscribed and has a subscribed child; d has nothing.
  const recursive = lines(await client.command('l1', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" top/% RETURN (CHILDREN)'));
  assert.deepEqual(recursive, [
    '* LIST (\\HasNoChildren \\Subscribed) "/" "top/a"',
    '* LIST (\\HasChildren) "/" "top/b" (CHILDINFO ("SUBSCRIBED"))',
    '* LIST (\\HasChildren \\Subscribed) "/" "top/c" (CHILDINFO ("SUBSCRIBED"))',
  ]);
  // Without RECURSIVEMATCH only the subscribed names come back, and no CHILDINFO.
  assert.deepEqual(lines(await client.command('l2', 'LIST (SUBSCRIBED) "" top/%')), ['* LIST (\\HasNoChildren \\Subscribed) "/" "top/a"', '* LIST (\\HasChildren \\Subscribed) "/" "top/c"']);
  // When the pattern also matches the subscribed descendant, it is listed itself and the parent gets no CHILDINFO.
  assert.deepEqual(lines(await client.command('l3', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" (top/b top/b/one)')), ['* LIST (\\HasNoChildren \\Subscribed) "/" "top/b/one"']);
  // A subscribed name that no longer exists: \NonExistent; its unsubscribed parent gets CHILDINFO.
  assert.deepEqual(lines(await client.command('l4', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" gone')), ['* LIST (\\HasNoChildren) "/" "gone" (CHILDINFO ("SUBSCRIBED"))']);
  assert.deepEqual(lines(await client.command('l6', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" gone/%')), ['* LIST (\\NonExistent \\Subscribed) "/" "gone/child"']);
  // RECURSIVEMATCH without a base option is a BAD (RFC 5258 §3).
  assert.match(await client.command('l5', 'LIST (RECURSIVEMATCH) "" *'), /^l5 BAD/m);
});

test('LSUB "%" lists an unsubscribed level with subscribed children as \\Noselect', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  for (const name of ['box/test', 'box/two/test', 'box/three/test']) await client.command('c', `CREATE ${name}`);
  for (const name of ['box/test', 'box/two/test', 'box/three/test']) await client.command('s', `SUBSCRIBE ${name}`);
  assert.deepEqual(lines(await client.command('u1', 'LSUB "" box/%')), [
    '* LSUB () "/" "box/test"',
    '* LSUB (\\Noselect) "/" "box/three"',
    '* LSUB (\\Noselect) "/" "box/two"',
  ]);
  // "*" reaches the subscribed names themselves: no \Noselect stand-ins.
  assert.deepEqual(lines(await client.command('u2', 'LSUB "" box/*test')), ['* LSUB () "/" "box/test"', '* LSUB () "/" "box/three/test"', '* LSUB () "/" "box/two/test"']);
  await client.command('s', 'UNSUBSCRIBE box/two/test');
  assert.deepEqual(lines(await client.command('u3', 'LSUB "" box/%')), ['* LSUB () "/" "box/test"', '* LSUB (\\Noselect) "/" "box/three"']);
});

test('a name that is not modified UTF-7 gets NO (it cannot exist); as a LIST pattern it matches nothing', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const client = await RawClient.connect(server);
  t.after(() => client.close());
  await client.login();
  const name = "!#$&'+,-.0123456789:;<=>?@^_`|[}";
  assert.match(await client.command('a1', `SELECT ${name}`), /^a1 NO /m);
  assert.match(await client.command('a2', `CREATE "&Jjo!"`), /^a2 NO /m);
  const listed = await client.command('a3', `LIST "" ${name}%*`);
  assert.match(listed, /^a3 OK/m);
  assert.deepEqual(lines(listed), []);
  // 8-bit bytes without UTF8=ACCEPT remain a syntax error; the session goes on.
  assert.match(await client.command('a4', Buffer.from('SELECT "Entw\u00fcrfe"', 'utf8')), /^a4 BAD/m);
  assert.match(await client.command('a5', 'NOOP'), /^a5 OK/m);
});
