// Invariant 1 on the MX: Python smtplib sessions send mail while the server is
// killed with SIGKILL; after a restart every message that got its 250 is in the
// INBOX, its bytes exactly as sent below the headers the MX adds on top.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createMemoryLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open-store.js';
import { createTemporaryStore } from '../helpers/temporary-store.js';

const child = fileURLToPath(new URL('./mx-crash-child.ts', import.meta.url));
const cycles = 3;
const sessions = 6;

/** The exact bytes sent for one id: CRLF lines, no leading dots, about 6 KB. */
function messageFor(id: string): string {
  const line = `${id} the quick brown fox jumps over the lazy dog 0123456789\r\n`;
  return `From: sender@example.org\r\nTo: alice@example.com\r\nSubject: ${id}\r\nMessage-ID: <${id}@example.org>\r\n\r\n` + line.repeat(Math.ceil(6000 / line.length));
}

// Each session sends until its connection breaks, printing `ack <id>` only once
// sendmail() returned, that is after the 250 to the final dot.
const sender = `
import smtplib, sys, threading
PORT = int(sys.argv[1]); CYCLE = sys.argv[2]; SESSIONS = int(sys.argv[3])
lock = threading.Lock()
def message_for(id):
    line = f"{id} the quick brown fox jumps over the lazy dog 0123456789\\r\\n"
    count = -(-6000 // len(line))
    return (f"From: sender@example.org\\r\\nTo: alice@example.com\\r\\nSubject: {id}\\r\\nMessage-ID: <{id}@example.org>\\r\\n\\r\\n" + line * count).encode()
def session(number):
    try:
        client = smtplib.SMTP("127.0.0.1", PORT, local_hostname="client.example.org", timeout=20)
        index = 0
        while True:
            id = f"c{CYCLE}-s{number}-m{index}"
            client.sendmail("sender@example.org", ["alice@example.com"], message_for(id))
            with lock:
                sys.stdout.write(f"ack {id}\\n"); sys.stdout.flush()
            index += 1
    except Exception as error:
        with lock:
            sys.stdout.write(f"broken {number} {type(error).__name__}\\n"); sys.stdout.flush()
threads = [threading.Thread(target=session, args=(n,)) for n in range(SESSIONS)]
for thread in threads: thread.start()
for thread in threads: thread.join()
`;

function startServer(dataDir: string): Promise<{ process: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    // The thread pool bin/postkeep.js gives the real server.
    const server = spawn(process.execPath, ['--import', 'tsx', child, dataDir], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, UV_THREADPOOL_SIZE: '64' } });
    let output = '';
    server.stdout!.on('data', (data: Buffer) => {
      output += data.toString();
      const match = /ready (\d+)\n/.exec(output);
      if (match) resolve({ process: server, port: Number(match[1]) });
    });
    server.on('error', reject);
    server.on('exit', (code, signal) => reject(new Error(`the MX exited before it was ready (code ${code}, signal ${signal}): ${output}`)));
  });
}

/** Sends from `sessions` smtplib sessions, kills the server after `killAfterAcknowledged` 250s; returns the acknowledged ids. */
function sendAndKill(server: ChildProcess, port: number, cycle: number, killAfterAcknowledged: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const python = spawn('python3', ['-c', sender, String(port), String(cycle), String(sessions)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acknowledged: string[] = [];
    let buffered = '';
    let killed = false;
    python.stdout.on('data', (data: Buffer) => {
      buffered += data.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const match = /^ack (\S+)$/.exec(line);
        if (match) acknowledged.push(match[1]!);
      }
      if (!killed && acknowledged.length >= killAfterAcknowledged) {
        killed = true;
        server.kill('SIGKILL');
      }
    });
    python.on('error', reject);
    python.on('close', () => (killed ? resolve(acknowledged) : reject(new Error(`every session stopped before the kill, after ${acknowledged.length} messages`))));
  });
}

test(`every message the MX answered 250 survives SIGKILL (${cycles} cycles, ${sessions} smtplib sessions)`, { timeout: 240_000 }, async () => {
  const temporary = await createTemporaryStore();
  const { dataDir } = temporary;
  await temporary.store.close();
  const acknowledged: string[] = [];
  try {
    for (let cycle = 0; cycle < cycles; cycle++) {
      const server = await startServer(dataDir);
      const exited = new Promise((resolve) => server.process.once('exit', resolve));
      acknowledged.push(...(await sendAndKill(server.process, server.port, cycle, 20 + Math.floor(Math.random() * 60))));
      await exited;
    }
    assert.ok(acknowledged.length >= cycles * 20, `${acknowledged.length} messages acknowledged`);

    // The restarted store: every acknowledged message, byte for byte, and no derived value out of step.
    const store = await openStore({ dataDir, log: createMemoryLogger() });
    try {
      const account = await store.account('alice@example.com');
      const inbox = await account.getMailbox('INBOX');
      const stored = new Map<string, Buffer>();
      for (const record of await account.fetch(inbox.id, { uids: [[1, Infinity]] })) {
        const bytes = await account.readMessage(inbox.id, record.uid);
        const id = /^Subject: (\S+)\r$/m.exec(bytes.toString('latin1'))?.[1];
        assert.ok(id, `message ${record.uid} has no Subject`);
        assert.ok(!stored.has(id), `${id} is stored twice`);
        stored.set(id, bytes);
      }
      for (const id of acknowledged) {
        const bytes = stored.get(id);
        assert.ok(bytes, `${id} got its 250 but is not in the INBOX after the restart`);
        const sent = Buffer.from(messageFor(id), 'latin1');
        assert.ok(bytes.subarray(bytes.length - sent.length).equals(sent), `${id} is not byte-identical`);
        const added = bytes.subarray(0, bytes.length - sent.length).toString('latin1');
        assert.match(added, /^Return-Path: <sender@example\.org>\r\n/, `${id}: unexpected header block on top`);
        assert.match(added, /\r\nReceived: from client\.example\.org /, `${id}: no Received header`);
      }
      assert.deepEqual(await store.checkConsistency(), []);
    } finally {
      await store.close();
    }
  } finally {
    await temporary.dispose();
  }
});
