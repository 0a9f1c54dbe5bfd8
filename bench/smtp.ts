// `npm run bench:smtp`: durable messages per second into the store through the
// MX, driven by Postfix's smtp-source (10 concurrent sessions reusing their
// connections, 10 KB messages), and the same load against Postfix's smtp-sink
// (which discards mail) as the upper bound; prints JSON with both and the ratio.
// Each figure is the median of three trials. For scale it runs the same load
// against two reference servers on the same smtp-server package (one that
// discards, one that only appends and fdatasyncs: bench/smtp-reference-servers.ts)
// and times one fdatasync on this disk, and against a real, durable Postfix: a
// private instance started here with a temporary config and queue that fsyncs each
// queue file before its 250 and puts the mail on hold (bench/postfix-instance.ts;
// needs root, skipped with a message otherwise or with --no-postfix). It also measures the banner latency
// and connection rate with the MX's greeting delay (100 ms) and without it.
// Everything listens on 127.0.0.1. The MX runs in this process with the thread
// pool the server gets from bin/postkeep.js (UV_THREADPOOL_SIZE, default 64 there);
// set UV_THREADPOOL_SIZE to compare other sizes.
// Needs /usr/sbin/smtp-source and /usr/sbin/smtp-sink (Debian package postfix;
// the system's Postfix service and /etc/postfix are not used).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import { freePort, waitForListener } from './loopback.js';
import * as os from 'node:os';
import * as path from 'node:path';
import { configSchema } from '../src/config/schema.js';
import { createLogger } from '../src/log.js';
import { ensureCertificate } from '../src/server/certificate.js';
import { staticResolver } from '../src/smtp/dns-resolver.js';
import { startSmtpService } from '../src/smtp/smtp-service.js';
import { openStore } from '../src/store/open-store.js';
import { startPostfixInstance } from './postfix-instance.js';
import { fdatasyncLatency, startReferenceServer } from './smtp-reference-servers.js';

// libuv reads UV_THREADPOOL_SIZE only when it creates its pool, which happens before
// this file runs: without the variable the benchmark runs itself again with it set.
if (process.env.UV_THREADPOOL_SIZE === undefined) {
  const again = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, UV_THREADPOOL_SIZE: '64' } });
  process.exit(again.status ?? 1);
}

const trials = 3;
const sessions = 10;
const messages = Number(process.env.BENCH_SMTP_MESSAGES ?? 6000);
const bodyLength = 10 * 1024;
const smtpSource = '/usr/sbin/smtp-source';
const smtpSink = '/usr/sbin/smtp-sink';

function runSource(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(smtpSource, ['-d', '-s', String(sessions), '-m', String(messages), '-l', String(bodyLength), '-M', 'client.example.org', '-f', 'sender@example.org', '-t', 'bench@example.com', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`smtp-source exited with ${code}: ${stderr}`));
      resolve(messages / (Number(process.hrtime.bigint() - started) / 1e9));
    });
  });
}

async function sinkRate(): Promise<number> {
  const port = await freePort();
  const sink: ChildProcess = spawn(smtpSink, ['-u', os.userInfo().username === 'root' ? 'nobody' : os.userInfo().username, `127.0.0.1:${port}`, '256'], { stdio: 'ignore' });
  try {
    await waitForListener(port);
    return await runSource(port);
  } finally {
    // Stopped by its PID: only the process this benchmark started.
    sink.kill('SIGTERM');
    await new Promise((resolve) => sink.once('exit', resolve));
  }
}

async function referenceRate(kind: 'discard' | 'append-fdatasync'): Promise<number> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'postkeep-bench-reference-'));
  const server = await startReferenceServer(kind, directory);
  try {
    return await runSource(server.port);
  } finally {
    await server.stop();
    await fs.rm(directory, { recursive: true, force: true });
  }
}

/** Median rate of the three trials against one private Postfix instance, its hold queue emptied between trials; null when skipped. */
async function postfixMedian(): Promise<number | null> {
  const postfix = await startPostfixInstance();
  if (postfix === null) return null;
  try {
    return await median(async () => {
      const rate = await runSource(postfix.port);
      // Every acknowledged message is in the hold queue.
      const held = await postfix.queued();
      if (held !== messages) throw new Error(`smtp-source got ${messages} acknowledgements but Postfix's hold queue holds ${held}`);
      await postfix.empty();
      const left = await postfix.queued();
      if (left !== 0) throw new Error(`Postfix's hold queue still holds ${left} messages after postsuper -d ALL`);
      return rate;
    });
  } finally {
    await postfix.stop();
  }
}

/** CPU milliseconds (user + system) this process spent per message in each Postkeep trial, by check setting. */
const cpuPerMessage: Record<'checks' | 'noChecks', number[]> = { checks: [], noChecks: [] };

async function postkeepRate(verifyAuthentication: boolean): Promise<number> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postkeep-bench-smtp-'));
  const log = createLogger({ level: 'error' });
  const store = await openStore({ dataDir, log });
  await store.admin.addDomain('example.com');
  await store.admin.addAccount('bench@example.com', 'x');
  const config = configSchema.parse({ dataDir, hostname: 'mx.example.com', smtp: { mx: { port: 0 }, submission: { enabled: false }, submissions: { enabled: false }, maxMessagesPerIpPerMinute: 1_000_000, maxConnectionsPerIp: 100, verifyAuthentication } });
  const tls = await ensureCertificate({ dataDir, hostname: 'localhost', certFile: '', keyFile: '', log });
  const smtp = await startSmtpService(config, store, tls, log, { resolver: staticResolver({}) });
  try {
    const cpuBefore = process.cpuUsage();
    const rate = await runSource(smtp.listeners.mx!.port);
    const cpu = process.cpuUsage(cpuBefore);
    cpuPerMessage[verifyAuthentication ? 'checks' : 'noChecks'].push((cpu.user + cpu.system) / 1000 / messages);
    // Every acknowledged message is in the store.
    const stored = (await (await store.account('bench@example.com')).getMailbox('INBOX')).messages;
    if (stored !== messages) throw new Error(`smtp-source got ${messages} acknowledgements but the INBOX holds ${stored}`);
    return rate;
  } finally {
    await smtp.stop();
    await store.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

/** Connect, read the 220 banner, QUIT; milliseconds from connect to banner. */
function greet(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let latency = 0;
    socket.on('data', (data) => {
      text += data.toString();
      if (latency === 0 && text.includes('\r\n')) {
        latency = Number(process.hrtime.bigint() - started) / 1e6;
        socket.write('QUIT\r\n');
      }
    });
    socket.on('close', () => (latency > 0 ? resolve(latency) : reject(new Error(`no banner: ${text}`))));
    socket.on('error', reject);
  });
}

/** Banner latency (median of 20 one after another) and connections per second with 50 clients at once, for one greeting delay. */
async function greetingFigures(greetingDelayMilliseconds: number): Promise<{ medianBannerMilliseconds: number; connectionsPerSecondWith50Clients: number; connectionsPerSecondOneClient: number }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postkeep-bench-greeting-'));
  const log = createLogger({ level: 'error' });
  const store = await openStore({ dataDir, log });
  const config = configSchema.parse({ dataDir, smtp: { mx: { port: 0, greetingDelayMilliseconds }, submission: { enabled: false }, submissions: { enabled: false }, maxConnectionsPerIp: 1000 } });
  const tls = await ensureCertificate({ dataDir, hostname: 'localhost', certFile: '', keyFile: '', log });
  const smtp = await startSmtpService(config, store, tls, log, { resolver: staticResolver({}) });
  try {
    const port = smtp.listeners.mx!.port;
    const latencies: number[] = [];
    const sequentialStarted = process.hrtime.bigint();
    for (let index = 0; index < 20; index++) latencies.push(await greet(port));
    const connectionsPerSecondOneClient = 20 / (Number(process.hrtime.bigint() - sequentialStarted) / 1e9);
    latencies.sort((a, b) => a - b);
    const total = 500;
    let next = 0;
    const parallelStarted = process.hrtime.bigint();
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (next++ < total) await greet(port);
    }));
    const connectionsPerSecondWith50Clients = total / (Number(process.hrtime.bigint() - parallelStarted) / 1e9);
    return {
      medianBannerMilliseconds: Math.round(latencies[10]! * 10) / 10,
      connectionsPerSecondWith50Clients: Math.round(connectionsPerSecondWith50Clients),
      connectionsPerSecondOneClient: Math.round(connectionsPerSecondOneClient * 10) / 10,
    };
  } finally {
    await smtp.stop();
    await store.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}

async function median(run: () => Promise<number>): Promise<number> {
  const values: number[] = [];
  for (let trial = 0; trial < trials; trial++) values.push(await run());
  values.sort((a, b) => a - b);
  return Math.round(values[Math.floor(trials / 2)]! * 10) / 10;
}

function middle(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)]! * 100) / 100;
}

await fs.access(smtpSource).catch(() => {
  throw new Error(`${smtpSource} is missing: install Debian's postfix package (the service need not run)`);
});
const greeting = { mxDefault100ms: await greetingFigures(100), noDelay: await greetingFigures(0) };
const sink = await median(sinkRate);
const discard = await median(() => referenceRate('discard'));
const appendFdatasync = await median(() => referenceRate('append-fdatasync'));
const probeDirectory = await fs.mkdtemp(path.join(os.tmpdir(), 'postkeep-bench-fdatasync-'));
const fdatasyncMilliseconds = await fdatasyncLatency(probeDirectory, bodyLength);
await fs.rm(probeDirectory, { recursive: true, force: true });
const postfix = process.argv.includes('--no-postfix') ? (process.stderr.write('Postfix: skipped (--no-postfix)\n'), null) : await postfixMedian();
const postkeep = await median(() => postkeepRate(true));
const postkeepWithoutAuthentication = await median(() => postkeepRate(false));
process.stdout.write(
  JSON.stringify(
    {
      load: { tool: 'smtp-source -d', sessions, messages, bodyBytes: bodyLength },
      threadPoolSize: Number(process.env.UV_THREADPOOL_SIZE),
      smtpSinkMessagesPerSecond: sink,
      postkeepDurableMessagesPerSecond: postkeep,
      ratio: Math.round((postkeep / sink) * 1000) / 1000,
      postkeepWithoutSpfDkimDmarcMessagesPerSecond: postkeepWithoutAuthentication,
      ratioWithoutSpfDkimDmarc: Math.round((postkeepWithoutAuthentication / sink) * 1000) / 1000,
      // A private Postfix instance under the same load: fsyncs each queue file before
      // the 250 (its default), mail put on hold; null when skipped.
      postfixDurableMessagesPerSecond: postfix,
      postfixRatio: postfix === null ? null : Math.round((postfix / sink) * 1000) / 1000,
      postkeepShareOfPostfix: postfix === null ? null : Math.round((postkeep / postfix) * 1000) / 1000,
      // The same load against servers that do (almost) nothing: how much of
      // smtp-sink's rate the smtp-server package reaches when it keeps nothing, and
      // when it keeps each message durably and nothing else.
      reference: {
        fdatasyncMedianMilliseconds: Math.round(fdatasyncMilliseconds * 1000) / 1000,
        smtpServerDiscardMessagesPerSecond: discard,
        smtpServerDiscardRatio: Math.round((discard / sink) * 1000) / 1000,
        smtpServerAppendFdatasyncMessagesPerSecond: appendFdatasync,
        smtpServerAppendFdatasyncRatio: Math.round((appendFdatasync / sink) * 1000) / 1000,
        postkeepShareOfAppendFdatasync: Math.round((postkeep / appendFdatasync) * 1000) / 1000,
      },
      // Less sensitive than the rates to other processes competing for the CPU.
      postkeepCpuMillisecondsPerMessage: { checks: middle(cpuPerMessage.checks), withoutChecks: middle(cpuPerMessage.noChecks) },
      greeting,
    },
    null,
    2,
  ) + '\n',
);
