// `npm run bench:auth -- [N]`: does the time of a failed IMAP LOGIN tell whether the
// account exists? A real server (startServer, pacing off in its config, or the
// benchmark would measure the pacing) on 127.0.0.1; one TLS connection sends N LOGINs
// for an unknown user and N with a wrong password for an existing one, alternating,
// after a warm-up. Prints JSON: each median and mean in milliseconds, the 25th/75th
// percentiles, the difference of the medians, and the median of the differences
// within each back-to-back pair.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { hashPassword } from '../src/auth/password.js';
import { configSchema } from '../src/config/schema.js';
import { createLogger } from '../src/log.js';
import { startServer } from '../src/server/server.js';

const attempts = Number(process.argv[2] ?? 200);
const warmup = 10;

class Client {
  private buffer = '';
  private waiter: (() => void) | null = null;
  constructor(private readonly socket: tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1');
      this.waiter?.();
    });
  }
  static async connect(port: number): Promise<Client> {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const client = new Client(socket);
    await client.until(/^\* OK[^\r\n]*\r\n/m);
    client.buffer = '';
    return client;
  }
  private async until(pattern: RegExp): Promise<string> {
    for (;;) {
      const match = pattern.exec(this.buffer);
      if (match) return match[0];
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }
  /** Milliseconds from sending a LOGIN to its tagged NO. */
  async timeLogin(tag: string, login: string, password: string): Promise<number> {
    const started = process.hrtime.bigint();
    this.socket.write(`${tag} LOGIN "${login}" "${password}"\r\n`);
    const line = await this.until(new RegExp(`^${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`, 'm'));
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (!line.startsWith(`${tag} NO [AUTHENTICATIONFAILED]`)) throw new Error(`unexpected reply ${line}`);
    this.buffer = '';
    return elapsed;
  }
  close(): void {
    this.socket.end();
  }
}

function quantile(sorted: number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    median: round(quantile(sorted, 0.5)),
    mean: round(samples.reduce((sum, value) => sum + value, 0) / samples.length),
    p25: round(quantile(sorted, 0.25)),
    p75: round(quantile(sorted, 0.75)),
  };
}

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postkeep-bench-auth-'));
try {
  const config = configSchema.parse({
    dataDir,
    imap: { port: 0, tlsPort: 0 },
    smtp: { mx: { enabled: false }, submission: { enabled: false }, submissions: { enabled: false } },
    store: { scrubDays: 0 },
    auth: { pacing: false },
    admin: { enabled: false },
  });
  const server = await startServer(config, createLogger({ level: 'error' }));
  try {
    await server.store.admin.addDomain('example.com');
    await server.store.admin.addAccount('alice@example.com', await hashPassword('correct horse battery staple'));
    const client = await Client.connect(server.imap!.tlsPort!);
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < warmup + attempts; i++) {
      const first = i % 2 === 0;
      // Alternate which goes first, so neither always follows the other.
      const a = await client.timeLogin(`u${i}`, first ? `nobody${i}@example.com` : 'alice@example.com', 'wrong password');
      const b = await client.timeLogin(`w${i}`, first ? 'alice@example.com' : `nobody${i}@example.com`, 'wrong password');
      if (i < warmup) continue;
      unknown.push(first ? a : b);
      wrong.push(first ? b : a);
    }
    client.close();
    const unknownUser = summary(unknown);
    const wrongPassword = summary(wrong);
    process.stdout.write(
      JSON.stringify(
        {
          attempts,
          unknownUserMilliseconds: unknownUser,
          wrongPasswordMilliseconds: wrongPassword,
          medianDifferenceMilliseconds: Math.round((wrongPassword.median - unknownUser.median) * 100) / 100,
          // Each pair ran back to back, so this cancels most of the drift of a shared machine's load.
          medianPairedDifferenceMilliseconds: summary(wrong.map((value, index) => value - unknown[index]!)).median,
          goal: 'under 5 ms at the median',
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    await server.stop();
  }
} finally {
  await fs.rm(dataDir, { recursive: true, force: true });
}
