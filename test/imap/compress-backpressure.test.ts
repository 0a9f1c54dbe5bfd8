// Issue 11 item 1: a client that pipelines far more than the server can answer, and does
// not read the answers, must be slowed down, not buffered. With COMPRESS=DEFLATE a few
// hundred kilobytes inflate into hundreds of thousands of commands; without it, one socket
// chunk holds thousands; and a line announcing a zero-length literal costs the client five
// bytes and the server a 26-byte continuation. In every case the connection holds at most
// imap.maxQueuedCommands commands, one socket (or inflate) chunk of unread input and about
// imap.maxUnsentReplyBytes of unsent replies; another client is served meanwhile; and once
// the client reads, every reply arrives, in order.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import * as tls from 'node:tls';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as zlib from 'node:zlib';
import { RawClient, login, password, startTestServer, type TestServer } from './server-harness.js';

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

const limits = { maxQueuedCommands: 8, maxUnsentReplyBytes: 32 * 1024 };
// A message that does not compress much (base64 of random bytes), so that 128 FETCHes of it (17 MB)
// fill the kernel's socket buffers whether or not COMPRESS is on, and the replies back up.
const messageSize = 128 * 1024;
const fetches = 128;
// The largest single reply write: a FETCH's literal (the message, base64 lines with their
// CRLFs, and its header) goes out as one piece.
const largestWrite = Math.ceil((messageSize * 78) / 76) + 4096;

function incompressibleMessage(): Buffer {
  const body = randomBytes((messageSize * 3) / 4).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.from(`From: bob@example.org\r\nTo: alice@example.com\r\nSubject: noise\r\n\r\n${body}\r\n`);
}

function heapUsed(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** A client that sends a flood with backpressure, reads nothing until told to, then reads lines as they come. */
class FloodClient {
  private carry = '';
  private lineHandler: (line: string) => void = () => {};
  private deflate: zlib.DeflateRaw | null = null;
  private inflate: zlib.InflateRaw | null = null;
  private onClose: () => void = () => {};

  private constructor(readonly socket: tls.TLSSocket) {
    socket.on('error', () => {});
    socket.on('close', () => this.onClose());
    socket.on('data', (chunk: Buffer) => (this.inflate ? this.inflate.write(chunk) : this.lines(chunk)));
  }

  static async connect(server: TestServer): Promise<FloodClient> {
    const socket = tls.connect({ host: '127.0.0.1', port: server.tlsPort, rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    const client = new FloodClient(socket);
    await client.until((line) => line.startsWith('* OK'));
    return client;
  }

  get localPort(): number {
    return this.socket.localPort!;
  }

  private lines(chunk: Buffer): void {
    const text = this.carry + chunk.toString('latin1');
    const parts = text.split('\r\n');
    this.carry = parts.pop()!;
    for (const line of parts) this.lineHandler(line);
  }

  /** Resolves at the first line for which `done` is true. */
  until(done: (line: string) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.lineHandler = (line) => {
        if (done(line)) resolve();
      };
      this.onClose = () => reject(new Error('connection closed'));
    });
  }

  async command(tag: string, text: string): Promise<void> {
    let status = '';
    const reply = this.until((line) => {
      if (!line.startsWith(`${tag} `)) return false;
      status = line;
      return true;
    });
    this.write(`${tag} ${text}\r\n`);
    await reply;
    assert.match(status, new RegExp(`^${tag} OK`));
  }

  /** RFC 4978: raw DEFLATE both ways from here on. */
  compress(): void {
    const inflate = zlib.createInflateRaw();
    inflate.on('data', (chunk: Buffer) => this.lines(chunk));
    const deflate = zlib.createDeflateRaw();
    deflate.pipe(this.socket);
    this.inflate = inflate;
    this.deflate = deflate;
  }

  write(data: string): boolean {
    if (!this.deflate) return this.socket.write(data);
    const room = this.deflate.write(data);
    this.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    return room;
  }

  /** Sends `batches()` as fast as the server takes it; resolves when all is handed over. */
  async flood(batches: Iterable<string>): Promise<void> {
    const target = this.deflate ?? this.socket;
    for (const batch of batches) {
      if (!this.write(batch)) await once(target, 'drain');
    }
  }

  stopReading(): void {
    this.socket.pause();
  }

  startReading(handler: (line: string) => void): void {
    this.lineHandler = handler;
    this.socket.resume();
  }

  close(): void {
    this.socket.destroy();
  }
}

function* noopFlood(count: number, batchSize = 2000): Iterable<string> {
  let batch = '';
  for (let i = 1; i <= fetches; i++) batch += `f${i} FETCH 1 BODY.PEEK[]\r\n`;
  for (let i = 1; i <= count; i++) {
    batch += `n${i} NOOP\r\n`;
    if (i % batchSize === 0) {
      yield batch;
      batch = '';
    }
  }
  if (batch) yield batch;
}

/** Until the server says it holds this connection back for `reason` (imap.backpressure). */
async function heldBack(server: TestServer, port: number, reason: 'queued_commands' | 'unsent_replies'): Promise<void> {
  const said = () => server.log.events.some((entry) => entry.event === 'imap.backpressure' && entry.fields.remotePort === port && entry.fields.reason === reason);
  // A failsafe, so that a server that never holds the client back fails here instead of hanging the run.
  const deadline = Date.now() + 60_000;
  while (!said()) {
    if (Date.now() > deadline) throw new Error(`the server never held the connection back for ${reason}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function peaksOf(server: TestServer, port: number): Promise<{ queuedCommands: number; inputBytes: number; unsentReplyBytes: number }> {
  for (;;) {
    const event = server.log.events.find((entry) => entry.event === 'imap.connection_peaks' && entry.fields.remotePort === port);
    if (event) return event.fields as { queuedCommands: number; inputBytes: number; unsentReplyBytes: number };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Another client logs in and fetches the message while the flood is held. */
async function otherClientIsServed(server: TestServer, size: number): Promise<void> {
  const other = await RawClient.connect(server);
  try {
    await other.login();
    assert.match(await other.command('b1', 'SELECT INBOX'), /b1 OK/);
    const reply = await other.command('b2', 'FETCH 1 BODY.PEEK[]');
    assert.ok(reply.includes(`BODY[] {${size}}\r\n`), reply.slice(0, 200));
    assert.match(reply, /b2 OK/);
    assert.match(await other.command('b3', 'LOGOUT'), /b3 OK/);
  } finally {
    other.close();
  }
}

async function pipelinedFlood(t: TestContext, compressed: boolean, noops: number): Promise<void> {
  const server = await startTestServer(limits);
  try {
    const message = incompressibleMessage();
    await server.account.append('INBOX', message);
    const client = await FloodClient.connect(server);
    await client.command('a1', `LOGIN ${login} "${password}"`);
    await client.command('a2', 'SELECT INBOX');
    if (compressed) {
      await client.command('a3', 'COMPRESS DEFLATE');
      client.compress();
    }
    const before = heapUsed();
    client.stopReading();
    // Compressed, each write inflates to 650 KB of commands (about 5.5 times its size; distinct tags
    // compress less than the attack's identical ones): the server must stop inflating, not just reading.
    const sending = client.flood(noopFlood(noops, compressed ? 50_000 : 2000));
    await heldBack(server, client.localPort, 'unsent_replies');
    await heldBack(server, client.localPort, 'queued_commands');
    await otherClientIsServed(server, message.length);
    const during = heapUsed();

    // The client reads now: every reply arrives, tagged in the order sent.
    const expected = (function* () {
      for (let i = 1; i <= fetches; i++) yield `f${i}`;
      for (let i = 1; i <= noops; i++) yield `n${i}`;
    })();
    let next = expected.next().value as string;
    let fetched = 0;
    let problem: string | null = null;
    const finished = new Promise<void>((resolve) => {
      client.startReading((line) => {
        if (line.startsWith('* 1 FETCH ')) fetched++;
        const match = /^([fn]\d+) (OK|NO|BAD)/.exec(line);
        if (!match) return;
        if (problem === null && (match[1] !== next || match[2] !== 'OK')) problem = `expected ${next} OK, got ${line}`;
        const step = expected.next();
        if (step.done) resolve();
        else next = step.value;
      });
    });
    await sending;
    await finished;
    assert.equal(problem, null);
    assert.equal(fetched, fetches);
    const port = client.localPort;
    client.close();

    const peaks = await peaksOf(server, port);
    t.diagnostic(`heap growth while held: ${((during - before) / 1048576).toFixed(1)} MiB; peaks ${JSON.stringify(peaks)}`);
    // One over-long line refused before its end may add one command to a full queue.
    assert.ok(peaks.queuedCommands <= limits.maxQueuedCommands + 1, `queued ${peaks.queuedCommands}`);
    // At most a socket chunk (64 KiB) or an inflated chunk (16 KiB), and what was left of the one before.
    assert.ok(peaks.inputBytes <= 128 * 1024, `input held ${peaks.inputBytes}`);
    // The replies did back up (the client read nothing), and were held to the bound.
    assert.ok(peaks.unsentReplyBytes > limits.maxUnsentReplyBytes, `unsent ${peaks.unsentReplyBytes}`);
    assert.ok(peaks.unsentReplyBytes <= limits.maxUnsentReplyBytes + largestWrite, `unsent ${peaks.unsentReplyBytes}`);
    // Held commands cost hundreds of bytes each: 100,000 of them would be tens of MiB.
    assert.ok(during - before < 8 * 1024 * 1024, `heap grew by ${during - before} bytes while the flood was held`);
  } finally {
    await server.stop();
  }
}

test('COMPRESS=DEFLATE: 100,000 pipelined NOOPs that the client does not read are held to the bounds, then answered in order', async (t) => {
  await pipelinedFlood(t, true, 100_000);
});

test('without COMPRESS: 100,000 pipelined NOOPs that the client does not read are held to the bounds, then answered in order', async (t) => {
  await pipelinedFlood(t, false, 100_000);
});

test('COMPRESS=DEFLATE zip bomb: one 12 KB write inflating to 8 MB of NOOPs is inflated only as fast as commands run', async (t) => {
  const server = await startTestServer(limits);
  try {
    const message = incompressibleMessage();
    await server.account.append('INBOX', message);
    const client = await FloodClient.connect(server);
    await client.command('a1', `LOGIN ${login} "${password}"`);
    await client.command('a2', 'SELECT INBOX');
    await client.command('a3', 'COMPRESS DEFLATE');
    client.compress();
    const before = heapUsed();
    client.stopReading();
    // A million identical commands compress about 700:1; the first chunk the server reads holds them all.
    await client.flood(['a NOOP\r\n'.repeat(1_000_000)]);
    await heldBack(server, client.localPort, 'queued_commands');
    await otherClientIsServed(server, message.length);
    const during = heapUsed();
    // This client is simply dropped: the server forgets what it held.
    const port = client.localPort;
    client.close();
    const peaks = await peaksOf(server, port);
    t.diagnostic(`heap growth while held: ${((during - before) / 1048576).toFixed(1)} MiB; peaks ${JSON.stringify(peaks)}`);
    assert.ok(peaks.queuedCommands <= limits.maxQueuedCommands + 1, `queued ${peaks.queuedCommands}`);
    assert.ok(peaks.inputBytes <= 128 * 1024, `input held ${peaks.inputBytes}`);
    assert.ok(peaks.unsentReplyBytes <= limits.maxUnsentReplyBytes + largestWrite, `unsent ${peaks.unsentReplyBytes}`);
    assert.ok(during - before < 8 * 1024 * 1024, `heap grew by ${during - before} bytes while the flood was held`);
  } finally {
    await server.stop();
  }
});

test('continuation requests a client does not read are held to imap.maxUnsentReplyBytes', async (t) => {
  const server = await startTestServer(limits);
  try {
    const client = await FloodClient.connect(server);
    await client.command('a1', `LOGIN ${login} "${password}"`);
    client.stopReading();
    // Each line announces a zero-length synchronizing literal: one `+ Ready` each (RFC 9051 §7.5).
    const lines = 300_000;
    const sending = client.flood(
      (function* () {
        yield 'c1 X {0}\r\n';
        for (let i = 0; i < lines / 1000; i++) yield '{0}\r\n'.repeat(1000);
        // End the command (BAD: not a command), then one the client can wait for.
        yield 'x\r\nz1 NOOP\r\n';
      })(),
    );
    await heldBack(server, client.localPort, 'unsent_replies');
    let continuations = 0;
    const finished = new Promise<void>((resolve) => {
      client.startReading((line) => {
        if (line.startsWith('+ ')) continuations++;
        if (line.startsWith('z1 ')) resolve();
      });
    });
    await sending;
    await finished;
    // Every line got its continuation request except the few that ran past imap's commandLimit.
    assert.ok(continuations > lines - 100 && continuations <= lines + 1, `continuations ${continuations}`);
    const port = client.localPort;
    client.close();
    const peaks = await peaksOf(server, port);
    t.diagnostic(`peaks ${JSON.stringify(peaks)}`);
    assert.ok(peaks.unsentReplyBytes > limits.maxUnsentReplyBytes, `unsent ${peaks.unsentReplyBytes}`);
    // Past the bound, at most one slice's worth (one continuation per free queue place) more.
    assert.ok(peaks.unsentReplyBytes <= limits.maxUnsentReplyBytes + 4096, `unsent ${peaks.unsentReplyBytes}`);
  } finally {
    await server.stop();
  }
});
