// `npm run attack`: a hostile-client suite against a real Postkeep on loopback.
// `postkeep start` runs as a child process with a fresh data folder and every
// listener on an ephemeral 127.0.0.1 port; each attack of DESIGN.md invariant 7
// runs in turn (bounded in time and volume, from its own 127.1.x.y addresses) while
// a legitimate client on 127.0.0.1 keeps logging in, fetching and delivering. Prints
// a table: per attack the reply observed, the server's RSS and descriptors before and
// after (from /proc/<pid>/), the legitimate client's worst latency, whether the
// server is still up, and pass/fail. Exit code 1 if any attack failed.
//
//   npm run attack [-- --only <text>[,<text>…]]   only the attacks whose name contains one of them
//   POSTKEEP_ATTACK_ROOT=<dir>            the tree whose server is attacked (default: this one)
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { mebibyte, type Attack, type AttackContext, type AttackOutcome, type EffectiveConfig } from './attack/attack.js';
import { connectionAttacks } from './attack/attacks/connections.js';
import { handshakeAttacks } from './attack/attacks/handshakes.js';
import { imapInputAttacks } from './attack/attacks/imap-input.js';
import { loginAttacks } from './attack/attacks/logins.js';
import { shutdownAttacks } from './attack/attacks/shutdown.js';
import { smtpInputAttacks } from './attack/attacks/smtp-input.js';
import { timeoutAttacks } from './attack/attacks/timeouts.js';
import { imapRound, smtpRound, startLegitimateClient, type LegitimateReport } from './attack/legitimate-client.js';
import { postkeepCommand, sampleMaximum, ServerProcess } from './attack/server-process.js';
import { SocketRegistry, SourceAddresses, sleep } from './attack/wire.js';

const attacks: Attack[] = [...connectionAttacks, ...handshakeAttacks, ...timeoutAttacks, ...imapInputAttacks, ...smtpInputAttacks, ...loginAttacks, ...shutdownAttacks];

const victim = { login: 'alice@example.com', password: 'legitimate user password 1' };
const attacker = { login: 'mallory@example.com', password: 'attacker owns this account 2' };
const hoarder = { login: 'trudy@example.com', password: 'attacker without a quota 3' };

/** The limits the suite runs with: small enough to reach in seconds, set only where the server has the key. */
const wanted: Record<string, unknown> = {
  // The suite may run as root in a container; a production server should not.
  allowRoot: true,
  'store.scrubDays': 0,
  'imap.port': 0,
  'imap.tlsPort': 0,
  'imap.maxConnections': 500,
  'imap.maxConnectionsPerIp': 20,
  'imap.handshakeTimeoutSeconds': 4,
  'imap.preLoginTimeoutSeconds': 15,
  'imap.appendLimit': 16 * mebibyte,
  'imap.connectionSpoolLimit': 24 * mebibyte,
  'imap.spoolLimit': 48 * mebibyte,
  'smtp.mx.port': 0,
  'smtp.mx.greetingDelayMilliseconds': 0,
  'smtp.submission.port': 0,
  'smtp.submissions.port': 0,
  'smtp.maxMessageSize': 5 * mebibyte,
  'smtp.maxConnections': 150,
  'smtp.maxConnectionsPerIp': 10,
  'smtp.idleTimeoutSeconds': 8,
  'smtp.handshakeTimeoutSeconds': 4,
  'smtp.preAuthenticationTimeoutSeconds': 15,
  'smtp.spoolLimit': 16 * mebibyte,
  'smtp.verifyAuthentication': false,
  'admin.port': 0,
  'admin.maxConnectionsPerIp': 10,
  'admin.handshakeTimeoutSeconds': 4,
  // Short pacing steps: the storm's paced answers come back within the attack's time.
  'auth.delayStepSeconds': 0.2,
  'auth.maxDelaySeconds': 3,
  'shutdown.graceSeconds': 3,
  'shutdown.timeoutSeconds': 15,
};

function has(defaults: EffectiveConfig, key: string): boolean {
  let value: unknown = defaults;
  for (const part of key.split('.')) {
    if (!value || typeof value !== 'object' || !(part in value)) return false;
    value = (value as Record<string, unknown>)[part];
  }
  return true;
}

function assign(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
}

/** A TOML document for nested tables of scalars. */
function toToml(value: Record<string, unknown>, prefix = ''): string {
  const scalars = Object.entries(value).filter(([, item]) => typeof item !== 'object' || item === null || Array.isArray(item));
  const tables = Object.entries(value).filter(([, item]) => typeof item === 'object' && item !== null && !Array.isArray(item));
  let text = prefix ? `[${prefix}]\n` : '';
  for (const [key, item] of scalars) text += `${key} = ${JSON.stringify(item)}\n`;
  for (const [key, item] of tables) text += `\n${toToml(item as Record<string, unknown>, prefix ? `${prefix}.${key}` : key)}`;
  return text;
}

async function cli(root: string, configFile: string, args: string[], input = ''): Promise<void> {
  const { command, args: full } = postkeepCommand(root, ['-c', configFile, ...args]);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, full, { cwd: root, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`postkeep ${args.join(' ')}: exit ${code}: ${stderr}`))));
    child.stdin.end(input);
  });
}

/** Whether the tree's `postkeep --help` lists `command`. */
async function cliHas(root: string, command: string): Promise<boolean> {
  const { command: node, args } = postkeepCommand(root, ['--help']);
  const output = await new Promise<string>((resolve) => {
    const child = spawn(node, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('close', () => resolve(text));
    child.on('error', () => resolve(''));
  });
  return new RegExp(`^\\s+${command}\\b`, 'm').test(output);
}

interface Row {
  attack: Attack;
  outcome: AttackOutcome;
  rssBefore: number;
  rssPeak: number;
  rssAfter: number | null;
  descriptorsBefore: number;
  descriptorsAfter: number | null;
  legitimate: LegitimateReport;
  up: 'yes' | 'no' | 'stopped';
  pass: boolean;
  problems: string[];
}

async function settleDescriptors(server: ServerProcess, target: number): Promise<number | null> {
  for (let attempt = 0; attempt < 75; attempt++) {
    const now = server.descriptors();
    if (now === null || now <= target) return now;
    await sleep(200);
  }
  return server.descriptors();
}

async function runAttack(attack: Attack, base: Omit<AttackContext, 'registry' | 'signal'>, ports: { imaps: number; mx: number }): Promise<Row> {
  const server = base.server;
  await sleep(500);
  const rssBefore = server.rss() ?? 0;
  const descriptorsBefore = server.descriptors() ?? 0;
  const peakReset = server.resetPeak();
  const sampled = sampleMaximum(() => server.rss(), 100);
  const registry = new SocketRegistry();
  const controller = new AbortController();
  const context: AttackContext = { ...base, registry, signal: controller.signal };
  const legitimateClient = attack.legitimateDuring ? startLegitimateClient(ports, victim) : null;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    attack.run(context).catch((error: Error): AttackOutcome => ({ pass: false, observed: `attack failed: ${error.message.slice(0, 120)}` })),
    new Promise<AttackOutcome>((resolve) => (timer = setTimeout(() => resolve({ pass: false, observed: `timed out after ${attack.timeoutSeconds} s` }), attack.timeoutSeconds * 1000))),
  ]);
  clearTimeout(timer);
  controller.abort();
  registry.destroyAll();
  const legitimate = legitimateClient ? await legitimateClient.stop() : { rounds: 0, failures: 0, worstMilliseconds: 0, firstError: null };
  const peak = Math.max(sampled.stop(), peakReset ? (server.peakRss() ?? 0) : 0);
  const problems: string[] = [];
  let up: Row['up'] = server.up ? 'yes' : 'no';
  if (attack.stopsServer) up = 'stopped';
  // An attack that takes every slot is checked by one legitimate round afterwards.
  if (!attack.legitimateDuring && !attack.stopsServer && server.up) {
    const started = Date.now();
    try {
      await imapRound(ports.imaps, victim);
      await smtpRound(ports.mx, victim.login, 0);
    } catch (error) {
      legitimate.failures++;
      legitimate.firstError = (error as Error).message.slice(0, 200);
    }
    legitimate.rounds++;
    legitimate.worstMilliseconds = Date.now() - started;
  }
  const descriptorsAfter = attack.stopsServer ? null : await settleDescriptors(server, descriptorsBefore + 2);
  const rssAfter = server.rss();
  if (!outcome.pass) problems.push('expected reply not observed');
  if (up === 'no') problems.push(`server died (${server.exit?.code ?? server.exit?.signal}): ${server.tail.slice(-3).join(' | ').slice(0, 300)}`);
  if (legitimate.failures > 0) problems.push(`legitimate client failed ${legitimate.failures}/${legitimate.rounds}: ${legitimate.firstError}`);
  if (attack.legitimateDuring && legitimate.rounds === 0) problems.push('legitimate client finished no round');
  if (descriptorsAfter !== null && descriptorsAfter > descriptorsBefore + 2) problems.push(`descriptors leaked: ${descriptorsBefore} → ${descriptorsAfter}`);
  const growthBound = outcome.peakGrowthBound ?? 256 * mebibyte;
  if (peak - rssBefore > growthBound) problems.push(`peak RSS grew ${((peak - rssBefore) / mebibyte).toFixed(0)} MiB (bound ${(growthBound / mebibyte).toFixed(0)} MiB)`);
  return { attack, outcome, rssBefore, rssPeak: peak, rssAfter, descriptorsBefore, descriptorsAfter, legitimate, up, pass: problems.length === 0, problems };
}

const megabytes = (bytes: number | null) => (bytes === null ? '–' : (bytes / mebibyte).toFixed(0));

function printTable(rows: Row[]): void {
  const lines = [
    '| # | attack | RSS MiB before / peak / after | fds before / after | legit worst ms (failed/rounds) | up | result |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (row, index) =>
        `| ${index + 1} | ${row.attack.name} | ${megabytes(row.rssBefore)} / ${megabytes(row.rssPeak)} / ${megabytes(row.rssAfter)} | ${row.descriptorsBefore} / ${row.descriptorsAfter ?? '–'} | ${row.legitimate.worstMilliseconds} (${row.legitimate.failures}/${row.legitimate.rounds}) | ${row.up} | ${row.pass ? 'PASS' : 'FAIL'} |`,
    ),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
  rows.forEach((row, index) => {
    process.stdout.write(`${index + 1}. ${row.attack.name} — expected: ${row.attack.expected}\n   observed: ${row.outcome.observed}\n`);
    for (const problem of row.problems) process.stdout.write(`   FAIL: ${problem}\n`);
  });
}

async function main(): Promise<number> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = path.resolve(process.env.POSTKEEP_ATTACK_ROOT ?? path.join(here, '..'));
  const onlyIndex = process.argv.indexOf('--only');
  const only = onlyIndex >= 0 ? (process.argv[onlyIndex + 1] ?? '').toLowerCase().split(',') : undefined;
  const selected = attacks.filter((attack) => !only || only.some((text) => attack.name.toLowerCase().includes(text)));
  const { configSchema } = (await import(pathToFileURL(path.join(root, 'src', 'config', 'schema.ts')).href)) as { configSchema: { parse(value: unknown): EffectiveConfig } };
  const defaults = configSchema.parse({});
  const temporary = await fs.mkdtemp(path.join(os.tmpdir(), 'postkeep-attack-'));
  const dataDir = path.join(temporary, 'data');
  const raw: Record<string, unknown> = { dataDir, hostname: 'localhost' };
  const skipped: string[] = [];
  for (const [key, value] of Object.entries(wanted)) {
    if (has(defaults, key)) assign(raw, key, value);
    else skipped.push(key);
  }
  const configFile = path.join(temporary, 'postkeep.toml');
  await fs.writeFile(configFile, toToml(raw));
  const config = configSchema.parse(raw);
  process.stdout.write(`Postkeep under attack: ${root}\ndata: ${dataDir}\n${skipped.length ? `keys this server does not have (their limits are missing): ${skipped.join(', ')}\n` : ''}`);

  let server: ServerProcess | null = null;
  const rows: Row[] = [];
  try {
    // Only init (or start) makes a store; the server is run as root here, as on a CI box.
    await cli(root, configFile, ['init']);
    process.env.POSTKEEP_ALLOW_ROOT ??= '1';
    // Newer trees make the store with `postkeep init` (and refuse other commands before it); older ones on first use.
    if (await cliHas(root, 'init')) await cli(root, configFile, ['init']);
    await cli(root, configFile, ['domain', 'add', 'example.com']);
    await cli(root, configFile, ['user', 'add', victim.login], `${victim.password}\n`);
    await cli(root, configFile, ['user', 'add', attacker.login, '--quota', '10M'], `${attacker.password}\n`);
    await cli(root, configFile, ['user', 'add', hoarder.login], `${hoarder.password}\n`);
    server = await ServerProcess.start(root, configFile);
    // The victim's first mail and first login: INBOX has a message to FETCH, 127.0.0.1 is a known source.
    await smtpRound(server.ports.mx, victim.login, 0);
    await imapRound(server.ports.imaps, victim);
    const sources = new SourceAddresses();
    for (const attack of selected) {
      if (!server.up) {
        process.stdout.write('restarting the server after it died\n');
        server = await ServerProcess.start(root, configFile);
      }
      process.stdout.write(`… ${attack.name}\n`);
      const row = await runAttack(attack, { server, config, dataDir, sources, attacker, hoarder, victim }, server.ports);
      rows.push(row);
      process.stdout.write(`  ${row.pass ? 'PASS' : 'FAIL'}: ${row.outcome.observed}\n`);
    }
  } finally {
    server?.kill();
    await server?.exited;
    printTable(rows);
    await fs.rm(temporary, { recursive: true, force: true });
  }
  return rows.every((row) => row.pass) && rows.length === selected.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`attack suite: ${(error as Error).stack ?? error}\n`);
    process.exit(2);
  },
);
