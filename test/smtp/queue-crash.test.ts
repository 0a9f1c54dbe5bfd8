// At-least-once under SIGKILL: a queue runner killed in the middle of delivering,
// then restarted, delivers every queued message once or (for the few in flight at
// the kill) twice, and loses none.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { createTemporaryStore } from '../helpers/temporary-store.js';

const child = fileURLToPath(new URL('./queue-crash-child.ts', import.meta.url));

function startChild(dataDir: string, port: number): { process: ChildProcess; output: Promise<string> } {
  const process_ = spawn(process.execPath, ['--import', 'tsx', child, dataDir, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  process_.stdout!.on('data', (data: Buffer) => (stdout += data.toString()));
  process_.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  return { process: process_, output: new Promise((resolve) => process_.on('close', () => resolve(stdout + stderr))) };
}

test('kill -9 in the middle of a queue run, restart: every message arrives once or twice, none lost', { timeout: 120_000 }, async () => {
  const total = 60;
  const arrivals = new Map<string, number>();
  // A slow remote, so the kill lands while deliveries are in flight.
  const remote = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH'],
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, callback) {
      let text = '';
      stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
      stream.on('end', () => {
        const id = /Message-ID: <([^>]+)>/i.exec(text)?.[1] ?? 'missing';
        setTimeout(() => {
          arrivals.set(id, (arrivals.get(id) ?? 0) + 1);
          callback();
        }, 30);
      });
    },
  });
  await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
  const port = (remote.server.address() as { port: number }).port;
  const temporary = await createTemporaryStore();
  try {
    for (let index = 0; index < total; index++) {
      const message = Buffer.from(`From: alice@example.com\r\nTo: carol@remote.test\r\nMessage-ID: <crash-${index}@example.com>\r\nSubject: ${index}\r\n\r\nbody ${index}\r\n`);
      await temporary.store.outbound.enqueue(message, { sender: 'alice@example.com', recipients: [`carol${index % 3}@remote.test`] }, { expiresAt: new Date(Date.now() + 3_600_000) });
    }
    await temporary.store.close();

    const first = startChild(temporary.dataDir, port);
    const deadline = Date.now() + 30_000;
    while (arrivals.size < 10 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(arrivals.size >= 10, 'deliveries started');
    first.process.kill('SIGKILL');
    await first.output;
    const beforeRestart = arrivals.size;
    assert.ok(beforeRestart < total, 'the kill landed before the queue drained');

    const second = startChild(temporary.dataDir, port);
    const output = await second.output;
    assert.match(output, /empty/, output);
    for (let index = 0; index < total; index++) {
      const count = arrivals.get(`crash-${index}@example.com`) ?? 0;
      assert.ok(count === 1 || count === 2, `message ${index} arrived ${count} times`);
    }
    const twice = [...arrivals.values()].filter((count) => count === 2).length;
    // Only messages in flight at the kill (at most the runner's concurrency) may repeat.
    assert.ok(twice <= 4, `${twice} messages arrived twice`);
  } finally {
    await new Promise<void>((resolve) => remote.close(() => resolve()));
    await temporary.dispose();
  }
});
