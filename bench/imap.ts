// `npm run bench:imap -- [clients] [seconds]`: N clients (default 10) for D seconds
// (default 30) doing the mix of imaptest's default profile (LOGIN, LIST 50%, STATUS
// 50%, SELECT, FETCH of flags/envelope/structure/headers, FETCH of one body, STORE
// flags 50%, STORE +FLAGS \Deleted, EXPUNGE, APPEND below 30 messages, LOGOUT), each
// client one command at a time over raw sockets, against a Postkeep server started
// here (`postkeep start` in a child process, a fresh temporary data folder, loopback,
// a port picked here). Prints commands/s and p50/p99 latency per command and overall.
// When Debian's Dovecot is installed (dovecot-imapd), the same load runs against a
// Dovecot instance started here with a temporary config, and the ratio is printed;
// Dovecot is stopped by its PID afterwards.
//
// `npm run bench:imap -- --idle 10000`: opens 1,000 and then 10,000 connections, each
// logged in with LOGIN, INBOX selected and in IDLE, and prints the server process's
// RSS (VmRSS of /proc/<pid>/status) at each step.
//
// Options: --no-dovecot, --idle N (steps 1000 and N), --keep (keep the temporary folder).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import { freePort, waitForListener } from './loopback.js';
import * as os from 'node:os';
import * as path from 'node:path';

const login = 'alice@example.com';
const password = 'benchmark-password';
const messageThreshold = 30;
const root = path.resolve(import.meta.dirname, '..');

// ---- arguments ----

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string) => {
  const index = argv.indexOf(name);
  return index >= 0 ? argv[index + 1] : undefined;
};
const positional = argv.filter((value, index) => !value.startsWith('--') && !(index > 0 && argv[index - 1] === '--idle'));
const clientCount = Number(positional[0] ?? 10);
const seconds = Number(positional[1] ?? 30);
const idleTarget = option('--idle') === undefined ? null : Number(option('--idle'));

// ---- a small IMAP client: one command at a time, literals understood ----

interface Reply {
  status: string;
  text: string;
  untagged: string[];
}

class ImapClient {
  private buffer: Buffer = Buffer.alloc(0);
  private literalRemaining = 0;
  private line: Buffer[] = [];
  private untagged: string[] = [];
  private waiter: { tag: string; resolve: (reply: Reply) => void; reject: (error: Error) => void } | null = null;
  private continuation: (() => void) | null = null;
  private tagCounter = 0;
  private greeting: Promise<void>;
  exists = 0;

  private constructor(private readonly socket: net.Socket) {
    this.greeting = new Promise((resolve, reject) => {
      this.waiter = { tag: '*', resolve: () => resolve(), reject };
    });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  static async connect(port: number): Promise<ImapClient> {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new ImapClient(socket);
    await client.greeting;
    return client;
  }

  private fail(error: Error): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(error);
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.literalRemaining > 0) {
        if (this.buffer.length < this.literalRemaining) {
          this.literalRemaining -= this.buffer.length;
          this.buffer = Buffer.alloc(0);
          return;
        }
        this.buffer = this.buffer.subarray(this.literalRemaining);
        this.literalRemaining = 0;
      }
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) return;
      const part = this.buffer.subarray(0, end);
      this.buffer = this.buffer.subarray(end + 2);
      const literal = /\{(\d+)\}$/.exec(part.subarray(Math.max(0, part.length - 24)).toString('latin1'));
      this.line.push(part);
      if (literal) {
        this.literalRemaining = Number(literal[1]);
        continue;
      }
      const text = Buffer.concat(this.line).toString('latin1');
      this.line = [];
      this.handleLine(text);
    }
  }

  private handleLine(text: string): void {
    if (text.startsWith('+')) {
      const continuation = this.continuation;
      this.continuation = null;
      continuation?.();
      return;
    }
    if (text.startsWith('* ')) {
      const exists = /^\* (\d+) EXISTS/.exec(text);
      if (exists) this.exists = Number(exists[1]);
      else if (/^\* \d+ EXPUNGE/.test(text)) this.exists--;
      if (this.waiter?.tag === '*') {
        const waiter = this.waiter;
        this.waiter = null;
        waiter.resolve({ status: 'OK', text, untagged: [] });
        return;
      }
      if (this.untagged.length < 1000) this.untagged.push(text);
      return;
    }
    const space = text.indexOf(' ');
    const tag = text.slice(0, space);
    if (this.waiter && tag === this.waiter.tag) {
      const waiter = this.waiter;
      this.waiter = null;
      const rest = text.slice(space + 1);
      const status = rest.split(' ', 1)[0]!;
      const untagged = this.untagged;
      this.untagged = [];
      waiter.resolve({ status, text: rest, untagged });
    }
  }

  /** Sends one command (string or bytes) and resolves with its tagged reply. */
  command(body: string | Buffer): Promise<Reply> {
    const tag = `b${++this.tagCounter}`;
    return new Promise((resolve, reject) => {
      this.waiter = { tag, resolve, reject };
      this.socket.write(typeof body === 'string' ? `${tag} ${body}\r\n` : Buffer.concat([Buffer.from(`${tag} `), body, Buffer.from('\r\n')]));
    });
  }

  /** Starts IDLE and resolves at the server's continuation request. */
  idle(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.continuation = resolve;
      this.waiter = { tag: `b${++this.tagCounter}`, resolve: () => reject(new Error('IDLE ended')), reject };
      this.socket.write(`${this.waiter.tag} IDLE\r\n`);
    });
  }

  destroy(): void {
    this.waiter = null;
    this.socket.destroy();
  }
}

// ---- messages to append: deterministic, a few KB, some multipart ----

let randomState = 0x2545f491;
function random(limit: number): number {
  // xorshift32: the same mix on every run, so two servers get the same load.
  randomState ^= randomState << 13;
  randomState ^= randomState >>> 17;
  randomState ^= randomState << 5;
  return (randomState >>> 0) % limit;
}

export function benchMessage(index: number): Buffer {
  const words = ['mail', 'server', 'durable', 'message', 'store', 'fetch', 'flag', 'sync', 'client', 'index', 'commit', 'verify'];
  const lines: string[] = [];
  const bodyLines = 30 + (index % 7) * 20;
  for (let line = 0; line < bodyLines; line++) {
    const parts: string[] = [];
    for (let word = 0; word < 10; word++) parts.push(words[(index * 7 + line * 3 + word) % words.length]!);
    lines.push(parts.join(' '));
  }
  const date = new Date(Date.UTC(2026, 0, 1) + index * 3_600_000).toUTCString().replace('GMT', '+0000');
  const headers = [
    `From: "Sender ${index % 50}" <sender${index % 50}@example.org>`,
    `To: ${login}`,
    ...(index % 3 === 0 ? [`Cc: "Copy ${index % 11}" <copy${index % 11}@example.net>`] : []),
    `Subject: Benchmark message ${index} about ${words[index % words.length]}`,
    `Date: ${date}`,
    `Message-ID: <${index}.bench@example.org>`,
    ...(index > 0 && index % 4 === 0 ? [`In-Reply-To: <${index - 1}.bench@example.org>`, `References: <${index - 1}.bench@example.org>`] : []),
    'MIME-Version: 1.0',
  ];
  let body: string;
  if (index % 3 === 1) {
    const boundary = `b${index}x`;
    headers.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
    body = [
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      ...lines,
      `--${boundary}`,
      'Content-Type: application/octet-stream; name="data.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      ...Buffer.alloc(600, index % 256).toString('base64').match(/.{1,76}/g)!,
      `--${boundary}--`,
      '',
    ].join('\r\n');
  } else {
    headers.push('Content-Type: text/plain; charset=utf-8');
    body = lines.join('\r\n') + '\r\n';
  }
  return Buffer.from(headers.join('\r\n') + '\r\n\r\n' + body);
}

// ---- the load ----

type Stats = Map<string, number[]>;

function appendCommand(index: number): Buffer {
  const message = benchMessage(index);
  // LITERAL+ (RFC 7888): both servers take the message without a continuation round trip.
  return Buffer.concat([Buffer.from(`APPEND INBOX {${message.length}+}\r\n`), message]);
}

function randomSequences(count: number, exists: number): string {
  const picked = new Set<number>();
  for (let attempt = 0; attempt < count; attempt++) picked.add(random(exists) + 1);
  const sorted = [...picked].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let index = 0; index < sorted.length; ) {
    let end = index;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end]! + 1) end++;
    ranges.push(end === index ? String(sorted[index]) : `${sorted[index]}:${sorted[end]}`);
    index = end + 1;
  }
  return ranges.join(',');
}

const fetchFields = ['UID', 'FLAGS', 'ENVELOPE', 'INTERNALDATE', 'BODY', 'BODYSTRUCTURE', 'RFC822.SIZE'];
const headerFields = ['From', 'To', 'Cc', 'Subject', 'References', 'In-Reply-To', 'Message-ID'];
const bodyFields = ['BODY.PEEK[HEADER]', 'RFC822.HEADER', 'BODY.PEEK[]', 'BODY.PEEK[1]', 'BODY.PEEK[TEXT]'];
const storeFlags = ['\\Seen', '\\Flagged', '\\Answered', '\\Draft', '$Label1'];

function fetchCommand(exists: number): string {
  const items: string[] = [];
  for (let count = random(4) + 1; count > 0; count--) {
    if (random(4) !== 0) items.push(fetchFields[random(fetchFields.length)]!);
    else {
      const names = new Set<string>();
      for (let header = random(4) + 1; header > 0; header--) names.add(headerFields[random(headerFields.length)]!);
      items.push(`BODY.PEEK[HEADER.FIELDS (${[...names].join(' ')})]`);
    }
  }
  return `FETCH ${randomSequences(Math.min(exists, 100), exists)} (${items.join(' ')})`;
}

function storeCommand(exists: number): string {
  const count = Math.max(1, random(exists < 10 ? exists : Math.min(Math.floor(exists / 5), 50)));
  const mode = ['+', '-', ''][random(3)]!;
  const flags = new Set<string>();
  for (let flag = random(3) + 1; flag > 0; flag--) flags.add(storeFlags[random(storeFlags.length)]!);
  return `STORE ${randomSequences(count, exists)} ${mode}FLAGS${random(2) ? '.SILENT' : ''} (${[...flags].join(' ')})`;
}

let appendCounter = 1000;
let expungeIssued = 0;

async function timed(stats: Stats, name: string, client: ImapClient, body: string | Buffer, errors: Map<string, number>): Promise<Reply> {
  const started = process.hrtime.bigint();
  const reply = await client.command(body);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  let list = stats.get(name);
  if (!list) stats.set(name, (list = []));
  list.push(elapsed);
  // A FETCH or STORE naming a message another client expunged meanwhile gets NO [EXPUNGEISSUED]
  // (RFC 9051 §7.1): the expected answer under this load, counted apart from errors.
  if (reply.status === 'NO' && reply.text.includes('[EXPUNGEISSUED]')) expungeIssued++;
  else if (reply.status !== 'OK') errors.set(`${name} ${reply.text.slice(0, 80)}`, (errors.get(`${name} ${reply.text.slice(0, 80)}`) ?? 0) + 1);
  return reply;
}

/** One client's session loop, repeated until `until`. */
async function clientLoop(port: number, until: number, stats: Stats, errors: Map<string, number>): Promise<void> {
  while (Date.now() < until) {
    const client = await ImapClient.connect(port);
    try {
      await timed(stats, 'LOGIN', client, `LOGIN "${login}" "${password}"`, errors);
      if (random(2) === 0) await timed(stats, 'LIST', client, 'LIST "" *', errors);
      if (random(2) === 0) await timed(stats, 'STATUS', client, 'STATUS INBOX (MESSAGES UNSEEN RECENT)', errors);
      await timed(stats, 'SELECT', client, 'SELECT INBOX', errors);
      if (client.exists > 0) await timed(stats, 'FETCH', client, fetchCommand(client.exists), errors);
      if (client.exists > 0) await timed(stats, 'FETCH2', client, `FETCH ${random(client.exists) + 1} (UID ${bodyFields[random(bodyFields.length)]})`, errors);
      if (client.exists > 0 && random(2) === 0) await timed(stats, 'STORE', client, storeCommand(client.exists), errors);
      if (client.exists > 0) {
        // As imaptest does: delete about as many as are appended, more when over the threshold.
        let count = random(3 + Math.max(0, client.exists - messageThreshold - 5));
        if (count === 0 && random(10) > 0) count = 0;
        if (count > 0) await timed(stats, 'DELETE', client, `STORE ${randomSequences(count, client.exists)} +FLAGS.SILENT (\\Deleted)`, errors);
      }
      await timed(stats, 'EXPUNGE', client, 'EXPUNGE', errors);
      if (client.exists - (client.exists >> 3) < messageThreshold) await timed(stats, 'APPEND', client, appendCommand(appendCounter++), errors);
      await timed(stats, 'LOGOUT', client, 'LOGOUT', errors);
    } catch (error) {
      if (Date.now() < until) errors.set(`connection ${String(error)}`, (errors.get(`connection ${String(error)}`) ?? 0) + 1);
    } finally {
      client.destroy();
    }
  }
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

interface LoadResult {
  serverCpuMillisecondsPerCommand: number;
  commandsPerSecond: number;
  commands: number;
  p50: number;
  p99: number;
  perCommand: Record<string, { count: number; p50: number; p99: number }>;
  errors: Record<string, number>;
  expungeIssued: number;
}

/**
 * CPU seconds used by a process and its descendants, live or reaped (utime, stime, cutime,
 * cstime of /proc/<pid>/stat, in clock ticks of 1/100 s): a figure that other load on a
 * shared machine disturbs far less than commands/s.
 */
async function treeCpuSeconds(rootPid: number): Promise<number> {
  const processes: { pid: number; parent: number; ticks: number }[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    if (!stat) continue;
    // The command name may hold spaces: the fields start after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    processes.push({ pid: Number(entry), parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]) });
  }
  const inTree = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const process of processes) if (!inTree.has(process.pid) && inTree.has(process.parent)) grew = inTree.add(process.pid) !== null;
  }
  return processes.filter((process) => inTree.has(process.pid)).reduce((sum, process) => sum + process.ticks, 0) / 100;
}

async function runLoad(port: number, serverPid: number): Promise<LoadResult> {
  // Seed the mailbox to imaptest's threshold, so FETCH and STORE have work from the first second.
  const seeder = await ImapClient.connect(port);
  const loggedIn = await seeder.command(`LOGIN "${login}" "${password}"`);
  if (loggedIn.status !== 'OK') throw new Error(`the server refused LOGIN: ${loggedIn.text}`);
  await seeder.command('SELECT INBOX');
  for (let index = seeder.exists; index < messageThreshold; index++) await seeder.command(appendCommand(index));
  await seeder.command('LOGOUT');
  seeder.destroy();

  randomState = 0x2545f491;
  appendCounter = 1000;
  expungeIssued = 0;
  const stats: Stats = new Map();
  const errors = new Map<string, number>();
  const cpuBefore = await treeCpuSeconds(serverPid);
  const started = Date.now();
  const until = started + seconds * 1000;
  await Promise.all(Array.from({ length: clientCount }, () => clientLoop(port, until, stats, errors)));
  const elapsed = (Date.now() - started) / 1000;
  const serverCpuSeconds = (await treeCpuSeconds(serverPid)) - cpuBefore;
  const all = [...stats.values()].flat().sort((a, b) => a - b);
  const perCommand: LoadResult['perCommand'] = {};
  for (const [name, values] of [...stats].sort((a, b) => a[0].localeCompare(b[0]))) {
    const sorted = [...values].sort((a, b) => a - b);
    perCommand[name] = { count: sorted.length, p50: round(percentile(sorted, 0.5)), p99: round(percentile(sorted, 0.99)) };
  }
  return { serverCpuMillisecondsPerCommand: round((serverCpuSeconds * 1000) / all.length), commandsPerSecond: round(all.length / elapsed), commands: all.length, p50: round(percentile(all, 0.5)), p99: round(percentile(all, 0.99)), perCommand, errors: Object.fromEntries(errors), expungeIssued };
}

const round = (value: number) => Math.round(value * 100) / 100;

function printLoad(name: string, scheme: string, result: LoadResult): void {
  console.log(`\n${name} (password scheme: ${scheme})`);
  console.log(`  ${'command'.padEnd(8)} ${'count'.padStart(7)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)}`);
  for (const [command, figures] of Object.entries(result.perCommand)) {
    console.log(`  ${command.padEnd(8)} ${String(figures.count).padStart(7)} ${figures.p50.toFixed(2).padStart(9)} ${figures.p99.toFixed(2).padStart(9)}`);
  }
  console.log(`  ${'all'.padEnd(8)} ${String(result.commands).padStart(7)} ${result.p50.toFixed(2).padStart(9)} ${result.p99.toFixed(2).padStart(9)}   ${result.commandsPerSecond} commands/s, server CPU ${result.serverCpuMillisecondsPerCommand} ms per command`);
  const errorCount = Object.values(result.errors).reduce((sum, count) => sum + count, 0);
  console.log(`  errors: ${errorCount}${errorCount ? ' ' + JSON.stringify(result.errors) : ''}; NO [EXPUNGEISSUED] (expected under this load): ${result.expungeIssued}`);
}

// ---- processes ----

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Stopped by its PID: only the process this benchmark started.
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function postkeepCli(configFile: string, args: string[], input?: string): void {
  const result = spawnSync(process.execPath, [path.join(root, 'bin/postkeep.js'), '-c', configFile, ...args], { input: input ?? '', encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`postkeep ${args.join(' ')} failed: ${result.stderr}`);
}

interface StartedServer {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startPostkeep(directory: string): Promise<StartedServer> {
  const port = await freePort();
  const configFile = path.join(directory, 'postkeep.toml');
  await fs.writeFile(
    configFile,
    [
      `dataDir = "${path.join(directory, 'data')}"`,
      '[store]',
      'scrubDays = 0',
      '[smtp.mx]',
      'enabled = false',
      '[smtp.submission]',
      'enabled = false',
      '[smtp.submissions]',
      'enabled = false',
      '[admin]',
      'enabled = false',
      '[imap]',
      `port = ${port}`,
      'tlsPort = 0',
      'allowPlaintextOnLoopback = true',
      // The load comes from one address: the per-address limit (default 50) would refuse it.
      'maxConnections = 20000',
      'maxConnectionsPerIp = 20000',
      '',
    ].join('\n'),
  );
  // Only init (or start) makes a store; the server is run as root here, as on a CI box.
  postkeepCli(configFile, ['init']);
  process.env.POSTKEEP_ALLOW_ROOT ??= '1';
  postkeepCli(configFile, ['domain', 'add', 'example.com']);
  postkeepCli(configFile, ['user', 'add', login], `${password}\n`);
  const log = await fs.open(path.join(directory, 'postkeep.log'), 'w');
  // The shell raises the open-file limit to the hard limit and execs node in place, so
  // child.pid is the server process itself.
  const nodeOptions = process.env.BENCH_IMAP_NODE_OPTIONS ?? '';
  const child = spawn('sh', ['-c', `ulimit -n $(ulimit -Hn); exec "$0" ${nodeOptions} "$@"`, process.execPath, path.join(root, 'bin/postkeep.js'), '-c', configFile, 'start'], {
    stdio: ['ignore', 'ignore', log.fd],
    cwd: directory,
  });
  await log.close();
  await waitForListener(port, { attempts: 600, intervalMilliseconds: 100, gaveUp: () => (child.exitCode !== null ? `the server exited with code ${child.exitCode}` : null) }).catch(async (error: Error) => {
    await stopChild(child);
    const tail = (await fs.readFile(path.join(directory, 'postkeep.log'), 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
    throw new Error(`${error.message}; the end of its log:\n${tail}`);
  });
  return { port, child, stop: () => stopChild(child) };
}

function dovecotInstalled(): boolean {
  return spawnSync('sh', ['-c', 'test -x /usr/sbin/dovecot && test -e /usr/lib/dovecot/imap']).status === 0;
}

async function startDovecot(directory: string, argon2: boolean): Promise<StartedServer & { scheme: string }> {
  const port = await freePort();
  const hash = argon2 ? spawnSync('doveadm', ['pw', '-s', 'ARGON2ID', '-p', password], { encoding: 'utf8' }) : { status: 1, stdout: '' };
  let passwordEntry = hash.status === 0 ? hash.stdout.trim() : `{PLAIN}${password}`;
  const scheme = passwordEntry.replace(/^\{([^}]+)\}.*$/, '$1') + (passwordEntry.startsWith('{ARGON2ID}') ? ` (${/\$(m=[^$]+)\$/.exec(passwordEntry)?.[1] ?? ''})` : '');
  if (hash.status !== 0) passwordEntry = `{PLAIN}${password}`;
  const home = path.join(directory, 'home');
  await fs.mkdir(home, { recursive: true });
  // The mail user is nobody (Dovecot refuses root for mail): the folders it writes must be its own.
  const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim();
  const nogroup = spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim();
  await fs.chmod(directory, 0o755);
  await fs.chmod(path.dirname(directory), 0o755);
  spawnSync('chown', ['-R', `${nobody}:${nogroup}`, home]);
  await fs.writeFile(path.join(directory, 'passwd'), `${login}:${passwordEntry}::::::\n`);
  const configFile = path.join(directory, 'dovecot.conf');
  await fs.writeFile(
    configFile,
    [
      `base_dir = ${path.join(directory, 'run')}`,
      `state_dir = ${path.join(directory, 'state')}`,
      `log_path = ${path.join(directory, 'dovecot.log')}`,
      'protocols = imap',
      'listen = 127.0.0.1',
      'ssl = no',
      'disable_plaintext_auth = no',
      'auth_mechanisms = plain login',
      `mail_location = maildir:${home}/%u/Maildir`,
      `mail_uid = ${nobody}`,
      `mail_gid = ${nogroup}`,
      'first_valid_uid = 1',
      'default_login_user = dovenull',
      'default_internal_user = dovecot',
      // Dovecot's cache keeps the passdb's answer (here the argon2id hash) and still
      // verifies the password against it at every login; it is on as Postkeep's cache is.
      'auth_cache_size = 10M',
      'auth_cache_ttl = 5 mins',
      'passdb {',
      '  driver = passwd-file',
      `  args = ${path.join(directory, 'passwd')}`,
      '}',
      'userdb {',
      '  driver = static',
      `  args = uid=${nobody} gid=${nogroup} home=${home}/%u`,
      '}',
      'service imap-login {',
      '  inet_listener imap {',
      '    address = 127.0.0.1',
      `    port = ${port}`,
      '  }',
      '  inet_listener imaps {',
      '    port = 0',
      '  }',
      '}',
      'service anvil {',
      '  chroot =',
      '}',
      '',
    ].join('\n'),
  );
  const child = spawn('/usr/sbin/dovecot', ['-F', '-c', configFile], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForListener(port, { attempts: 600, intervalMilliseconds: 100, gaveUp: () => (child.exitCode !== null ? `the server exited with code ${child.exitCode}` : null) }).catch(async (error: Error) => {
    await stopChild(child);
    throw error;
  });
  return { port, child, scheme, stop: () => stopChild(child) };
}

// ---- memory: connections in IDLE ----

function residentMegabytes(pid: number): Promise<number> {
  return fs.readFile(`/proc/${pid}/status`, 'utf8').then((status) => Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024);
}

async function idleBench(target: number): Promise<void> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'postkeep-bench-imap-idle-'));
  const server = await startPostkeep(directory).catch(async (error: Error) => {
    await fs.rm(directory, { recursive: true, force: true });
    throw error;
  });
  const clients: ImapClient[] = [];
  try {
    console.log(`Postkeep server pid ${server.child.pid}, RSS after start ${(await residentMegabytes(server.child.pid!)).toFixed(1)} MB`);
    const steps = target > 1000 ? [1000, target] : [target];
    for (const step of steps) {
      const started = Date.now();
      let opening = clients.length;
      const open = async () => {
        while (opening < step) {
          opening++;
          const client = await ImapClient.connect(server.port);
          clients.push(client);
          const reply = await client.command(`LOGIN "${login}" "${password}"`);
          if (reply.status !== 'OK') throw new Error(`LOGIN: ${reply.text}`);
          await client.command('SELECT INBOX');
          await client.idle();
        }
      };
      await Promise.all(Array.from({ length: 50 }, open));
      const seconds = (Date.now() - started) / 1000;
      // Let the server settle (garbage collection after the burst of logins).
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const megabytes = await residentMegabytes(server.child.pid!);
      console.log(`${clients.length} connections logged in, INBOX selected, in IDLE (opened in ${seconds.toFixed(1)} s): server RSS ${megabytes.toFixed(1)} MB (${((megabytes * 1024) / clients.length).toFixed(1)} KB per connection including the base)`);
    }
  } finally {
    for (const client of clients) client.destroy();
    await server.stop();
    if (!flag('--keep')) await fs.rm(directory, { recursive: true, force: true });
  }
}

// ---- main ----

async function main(): Promise<void> {
  // This process holds one socket per client too: raise its open-file limit to the hard limit.
  spawnSync('sh', ['-c', `prlimit --pid ${process.pid} --nofile=$(ulimit -Hn):$(ulimit -Hn)`]);
  if (idleTarget !== null) return idleBench(idleTarget);
  console.log(`bench:imap — ${clientCount} clients for ${seconds} s each, imaptest's default mix, one command at a time per client, plaintext on loopback`);
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'postkeep-bench-imap-'));
  const summary: Record<string, unknown> = { clients: clientCount, seconds };
  try {
    let postkeepResult: LoadResult | null = null;
    if (flag('--no-postkeep')) console.log('\nPostkeep: skipped (--no-postkeep)');
    else {
      const postkeepDirectory = path.join(directory, 'postkeep');
      await fs.mkdir(postkeepDirectory);
      const postkeep = await startPostkeep(postkeepDirectory);
      try {
        postkeepResult = await runLoad(postkeep.port, postkeep.child.pid!);
      } finally {
        await postkeep.stop();
      }
      printLoad('Postkeep', 'argon2id m=65536,t=3,p=4, successful checks cached 5 minutes', postkeepResult);
      summary.postkeep = postkeepResult;
    }

    if (flag('--no-dovecot')) console.log('\nDovecot: skipped (--no-dovecot)');
    else if (!dovecotInstalled()) console.log('\nDovecot: skipped, not installed (apt-get install -y dovecot-imapd to compare)');
    else {
      // Twice: with the same password cost as Postkeep (ARGON2ID), and with {PLAIN}, which
      // shows Dovecot's IMAP engine without any password cost: the stricter comparison.
      for (const [argon2, key] of [[true, 'dovecot'], [false, 'dovecotPlain']] as const) {
        const dovecotDirectory = path.join(directory, key);
        await fs.mkdir(dovecotDirectory);
        const dovecot = await startDovecot(dovecotDirectory, argon2);
        let dovecotResult: LoadResult;
        try {
          dovecotResult = await runLoad(dovecot.port, dovecot.child.pid!);
        } finally {
          await dovecot.stop();
        }
        printLoad('Dovecot', `${dovecot.scheme}, auth_cache on`, dovecotResult);
        summary[key] = dovecotResult;
        if (postkeepResult) {
          const ratio = round(postkeepResult.commandsPerSecond / dovecotResult.commandsPerSecond);
          summary[`${key}Ratio`] = ratio;
          console.log(`Postkeep / Dovecot (${dovecot.scheme}): ${ratio} (commands/s); p50 ${postkeepResult.p50} vs ${dovecotResult.p50} ms; p99 ${postkeepResult.p99} vs ${dovecotResult.p99} ms; server CPU per command ${postkeepResult.serverCpuMillisecondsPerCommand} vs ${dovecotResult.serverCpuMillisecondsPerCommand} ms`);
        }
      }
    }
  } finally {
    if (!flag('--keep')) await fs.rm(directory, { recursive: true, force: true });
  }
  console.log('\n' + JSON.stringify(summary));
}

await main();
