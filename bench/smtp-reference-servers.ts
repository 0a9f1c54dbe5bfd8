// Two reference servers for `npm run bench:smtp`, built on the same smtp-server
// package as Postkeep's MX and driven by the same smtp-source load, to show how
// much of smtp-sink's rate is reachable at all on this machine:
// - discard: answers 250 as soon as the data ends, keeps nothing (the protocol
//   library's own ceiling);
// - append + fdatasync: appends each message to one file and answers 250 after
//   an fdatasync shared by every message that arrived meanwhile (group commit):
//   about the least any server that only acknowledges durable mail can do.
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';

export interface ReferenceServer {
  port: number;
  stop(): Promise<void>;
}

export async function startReferenceServer(kind: 'discard' | 'append-fdatasync', directory: string): Promise<ReferenceServer> {
  const log = kind === 'append-fdatasync' ? await fs.open(path.join(directory, 'messages'), 'a') : null;
  let waiting: (() => void)[] = [];
  let syncing = false;
  async function syncAll(): Promise<void> {
    syncing = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      await log!.datasync();
      for (const acknowledge of batch) acknowledge();
    }
    syncing = false;
  }
  const server = new SMTPServer({
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    logger: false,
    onData(stream: SMTPServerDataStream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (log === null) return callback(null, 'discarded');
        log.write(Buffer.concat(chunks)).then(
          () => {
            waiting.push(() => callback(null, 'durable'));
            if (!syncing) void syncAll();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as net.AddressInfo).port,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await log?.close();
    },
  };
}

/** Median milliseconds of one append of `bytes` followed by fdatasync, one after another (no concurrency). */
export async function fdatasyncLatency(directory: string, bytes: number, count = 300): Promise<number> {
  const file = await fs.open(path.join(directory, 'fdatasync-probe'), 'a');
  const data = Buffer.alloc(bytes, 0x61);
  const latencies: number[] = [];
  try {
    for (let index = 0; index < count; index++) {
      await file.write(data);
      const started = process.hrtime.bigint();
      await file.datasync();
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  } finally {
    await file.close();
  }
  latencies.sort((a, b) => a - b);
  return latencies[Math.floor(latencies.length / 2)]!;
}
