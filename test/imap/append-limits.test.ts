// APPEND is refused before its literal is read when it cannot be stored (issue 11 item 5):
// over the account's quota (RFC 9208 OVERQUOTA), without room in the spool (RFC 5530
// LIMIT), before login. A synchronizing literal gets the NO instead of `+`; a LITERAL+
// one is thrown away as it arrives, never written to the spool folder.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawClient } from './server-harness.js';
import { messageOfSize, send, spoolBytes, spoolEmptied, startSpoolServer, uploadSampling, type SpoolServer } from './spool-server.js';

const MiB = 1024 * 1024;

/** The first thing the server says after an APPEND line: a continuation or the tagged reply. */
async function firstAnswer(client: RawClient, tag: string): Promise<string> {
  const text = await client.readUntil(new RegExp(`^(\\+|${tag}) [^\\r\\n]*\\r\\n`, 'm'));
  client.take();
  return text;
}

describe('an account with a 10 MiB quota', () => {
  let server: SpoolServer;
  before(async () => {
    server = await startSpoolServer({ quotaBytes: 10 * MiB });
  });
  after(async () => {
    await server.stop();
  });

  test('APPEND {50 MiB} gets NO [OVERQUOTA] at once, with no continuation; the connection goes on', async () => {
    const client = await RawClient.connect(server);
    await client.login();
    await send(client, `A1 APPEND INBOX {${50 * MiB}}\r\n`);
    const answer = await firstAnswer(client, 'A1');
    assert.match(answer, /^A1 NO \[OVERQUOTA\]/m);
    assert.doesNotMatch(answer, /^\+/m);
    assert.match(await client.command('A2', 'NOOP'), /A2 OK/);
    assert.equal((await server.account.getMailbox('INBOX')).messages, 0);
    client.close();
  });

  test('the quota counts what is stored: 9 MiB fits, 2 MiB more does not', async () => {
    const client = await RawClient.connect(server);
    await client.login();
    const message = messageOfSize(9 * MiB);
    await send(client, `B1 APPEND INBOX {${message.length}}\r\n`);
    assert.match(await firstAnswer(client, 'B1'), /^\+ /m);
    await send(client, Buffer.concat([message, Buffer.from('\r\n')]));
    assert.match(await client.response('B1'), /B1 OK \[APPENDUID /);
    await send(client, `B2 APPEND INBOX {${2 * MiB}}\r\n`);
    assert.match(await firstAnswer(client, 'B2'), /^B2 NO \[OVERQUOTA\]/m);
    // The first literal of a MULTIAPPEND fits, the sum does not: refused before the second is read.
    await send(client, `B3 APPEND INBOX {${MiB / 2}}\r\n`);
    assert.match(await firstAnswer(client, 'B3'), /^\+ /m);
    await send(client, Buffer.concat([messageOfSize(MiB / 2), Buffer.from(` {${MiB}}\r\n`)]));
    assert.match(await firstAnswer(client, 'B3'), /^B3 NO \[OVERQUOTA\]/m);
    assert.match(await client.command('B4', 'NOOP'), /B4 OK/);
    assert.equal((await server.account.getMailbox('INBOX')).messages, 1);
    await spoolEmptied(server.spoolDirectory);
    client.close();
  });

  test('a LITERAL+ literal over quota is refused before it is sent, and none of it reaches the spool', async () => {
    const client = await RawClient.connect(server);
    await client.login();
    await send(client, `C1 APPEND INBOX {${40 * MiB}+}\r\n`);
    // The answer comes while the 40 MiB are still to be sent: it was decided on the announcement.
    const first = await uploadSampling(client, server.spoolDirectory, MiB);
    assert.match(await client.response('C1'), /C1 NO \[OVERQUOTA\]/);
    const rest = await uploadSampling(client, server.spoolDirectory, 39 * MiB);
    await send(client, '\r\n');
    // Every byte of the literal was taken as literal (none ran as a command), and the connection goes on.
    assert.match(await client.command('C2', 'NOOP'), /^C2 OK/m);
    assert.equal(Math.max(first, rest, await spoolBytes(server.spoolDirectory)), 0, 'bytes written to the spool folder');
    assert.equal((await server.account.getMailbox('INBOX')).messages, 1);
    assert.ok(server.log.events.some((entry) => entry.event === 'imap.append_refused' && entry.fields.reason === 'OVERQUOTA'));
    client.close();
  });
});

describe('spool bounds', () => {
  let server: SpoolServer;
  before(async () => {
    server = await startSpoolServer({ limits: { appendLimit: 10 * MiB, connectionSpoolLimit: 20 * MiB, spoolLimit: 22 * MiB } });
  });
  after(async () => {
    await server.stop();
  });

  test('a MULTIAPPEND of ten 5 MiB LITERAL+ literals is refused once the connection’s 20 MiB are spooled; no more is written', async () => {
    const client = await RawClient.connect(server);
    await client.login();
    const literal = 5 * MiB;
    let most = 0;
    await send(client, `M1 APPEND INBOX {${literal}+}\r\n`);
    for (let index = 0; index < 10; index++) {
      most = Math.max(most, await uploadSampling(client, server.spoolDirectory, messageOfSize(literal)));
      await send(client, index < 9 ? ` {${literal}+}\r\n` : '\r\n');
    }
    assert.match(await client.response('M1'), /M1 NO \[LIMIT\]/);
    assert.match(await client.command('M2', 'NOOP'), /^M2 OK/m);
    assert.ok(most <= 20 * MiB, `the spool folder held ${most} bytes`);
    assert.equal((await server.account.getMailbox('INBOX')).messages, 0, 'all or none (RFC 3502)');
    await spoolEmptied(server.spoolDirectory);
    client.close();
  });

  test('the server-wide bound: while one upload holds 16 of 22 MiB, another 8 MiB APPEND gets NO [LIMIT] without a continuation', async () => {
    const first = await RawClient.connect(server);
    const second = await RawClient.connect(server);
    await first.login();
    await second.login();
    const message = messageOfSize(8 * MiB);
    // Two synchronizing literals in one MULTIAPPEND: 16 MiB reserved while the second is still coming.
    await send(first, `S1 APPEND INBOX {${message.length}}\r\n`);
    assert.match(await firstAnswer(first, 'S1'), /^\+ /m);
    await send(first, Buffer.concat([message, Buffer.from(` {${message.length}}\r\n`)]));
    assert.match(await firstAnswer(first, 'S1'), /^\+ /m);
    await send(first, message.subarray(0, MiB));

    await send(second, `T1 APPEND INBOX {${message.length}}\r\n`);
    const answer = await firstAnswer(second, 'T1');
    assert.match(answer, /^T1 NO \[LIMIT\]/m);
    assert.doesNotMatch(answer, /^\+/m);

    await send(first, Buffer.concat([message.subarray(MiB), Buffer.from('\r\n')]));
    assert.match(await first.response('S1'), /S1 OK \[APPENDUID /);
    // The room is given back when the first APPEND is done.
    await spoolEmptied(server.spoolDirectory);
    await send(second, `T2 APPEND INBOX {${message.length}}\r\n`);
    assert.match(await firstAnswer(second, 'T2'), /^\+ /m);
    await send(second, Buffer.concat([message, Buffer.from('\r\n')]));
    assert.match(await second.response('T2'), /T2 OK \[APPENDUID /);
    assert.equal((await server.account.getMailbox('INBOX')).messages, 3);
    first.close();
    second.close();
  });

  test('an APPEND literal before login gets BAD, no continuation, and nothing is spooled', async () => {
    const client = await RawClient.connect(server);
    await send(client, `P1 APPEND INBOX {${8 * MiB}}\r\n`);
    const answer = await firstAnswer(client, 'P1');
    assert.match(answer, /^P1 BAD /m);
    assert.doesNotMatch(answer, /^\+/m);
    await send(client, `P2 APPEND INBOX {${8 * MiB}+}\r\n`);
    const most = await uploadSampling(client, server.spoolDirectory, 8 * MiB);
    await send(client, '\r\n');
    assert.match(await client.response('P2'), /P2 BAD /);
    assert.match(await client.command('P3', 'NOOP'), /P3 OK/);
    assert.equal(most, 0);
    client.close();
  });
});

describe('an account with a quota of one message', () => {
  let server: SpoolServer;
  before(async () => {
    server = await startSpoolServer({ quotaMessages: 1 });
  });
  after(async () => {
    await server.stop();
  });

  test('the first APPEND fits; the second gets NO [OVERQUOTA] instead of a continuation', async () => {
    const client = await RawClient.connect(server);
    await client.login();
    const message = messageOfSize(1000);
    await send(client, `Q1 APPEND INBOX {${message.length}}\r\n`);
    assert.match(await firstAnswer(client, 'Q1'), /^\+ /m);
    await send(client, Buffer.concat([message, Buffer.from('\r\n')]));
    assert.match(await client.response('Q1'), /Q1 OK/);
    await send(client, `Q2 APPEND INBOX {${message.length}}\r\n`);
    const answer = await firstAnswer(client, 'Q2');
    assert.match(answer, /^Q2 NO \[OVERQUOTA\]/m);
    assert.doesNotMatch(answer, /^\+/m);
    assert.match(await client.command('Q3', 'NOOP'), /Q3 OK/);
    client.close();
  });
});
