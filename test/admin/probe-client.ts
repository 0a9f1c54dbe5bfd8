// Small real-socket clients for the probe and metrics tests: an IMAP session over
// TLS that sends lines and waits for each tagged reply, a Prometheus text parser,
// and an HTTP request whose headers are finished only when the test says so.
import assert from 'node:assert/strict';
import * as tls from 'node:tls';

export interface ImapLines {
  /** Sends `tag command` and resolves with the tagged reply line. */
  command(tag: string, command: string): Promise<string>;
  close(): void;
}

export async function openImap(port: number): Promise<ImapLines> {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  let buffer = '';
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  let greeted: () => void;
  const greeting = new Promise<void>((resolve) => (greeted = resolve));
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (line.startsWith('* OK')) greeted();
      const index = waiters.findIndex((waiter) => line.startsWith(waiter.prefix));
      if (index >= 0) waiters.splice(index, 1)[0]!.resolve(line);
    }
  });
  await greeting;
  return {
    command(tag, command) {
      return new Promise((resolve) => {
        waiters.push({ prefix: `${tag} `, resolve });
        socket.write(`${tag} ${command}\r\n`);
      });
    },
    close: () => socket.destroy(),
  };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition format 0.0.4: every line is a comment or one sample; anything else fails the test. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([-+]?(?:[0-9.e+-]+|Inf|NaN))$/.exec(line);
    assert.ok(match, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)).reduce((sum, sample) => sum + sample.value, 0);
}

/**
 * An HTTPS GET whose request is started (its first header line sent, so the
 * connection is busy, not idle) and finished only by `finish()`.
 */
export async function startHeldRequest(port: number, ca: Buffer, path: string): Promise<{ finish(): Promise<{ status: number; body: string }> }> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n`);
  return {
    async finish() {
      socket.end('Connection: close\r\n\r\n');
      await ended;
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? 0);
      return { status, body: received.slice(received.indexOf('\r\n\r\n') + 4) };
    },
  };
}
