// `postkeep start` as a child process in a temporary data folder, for tests that
// look at the process from outside: its open descriptors (/proc/<pid>/fd), how it
// ends on SIGTERM, whether its ports are free afterwards. The listening ports are
// read from its own structured log (`imap.listening`, `smtp.listening`,
// `admin_api.listening`), so every listener can be on port 0.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { cliPath } from '../helpers/run-cli.js';

export interface ChildPorts {
  imap: number;
  imapTls: number;
  mx: number;
  submission: number;
  submissions: number;
  admin: number;
}

export interface ServerChild {
  child: ChildProcess;
  ports: ChildPorts;
  stderr(): string;
  /** Structured log events so far, parsed. */
  events(): { event: string; [field: string]: unknown }[];
  /** How many descriptors the server process holds open now. */
  descriptors(): number;
  /** Resolves with the exit code once the process is gone (null code: killed by a signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Keys for the config's tables, e.g. `{ imap: { maxConnectionsPerIp: 2 } }`. */
export type ChildSettings = Partial<Record<'imap' | 'smtp' | 'admin' | 'shutdown', Record<string, number | string | boolean>>>;

/** The TOML for `dataDir` with the given ports (0 when absent) and settings. */
export function childConfig(dataDir: string, ports: Partial<ChildPorts> = {}, settings: ChildSettings = {}): string {
  const keys = (table: Record<string, number | string | boolean> | undefined) =>
    Object.entries(table ?? {})
      .map(([key, value]) => `${key} = ${JSON.stringify(value)}\n`)
      .join('');
  return [
    `dataDir = ${JSON.stringify(dataDir)}\n`,
    `[store]\nscrubDays = 0\n`,
    `[imap]\nport = ${ports.imap ?? 0}\ntlsPort = ${ports.imapTls ?? 0}\n${keys(settings.imap)}`,
    `[smtp]\n${keys(settings.smtp)}`,
    `[smtp.mx]\nport = ${ports.mx ?? 0}\ngreetingDelayMilliseconds = 0\n`,
    `[smtp.submission]\nport = ${ports.submission ?? 0}\n`,
    `[smtp.submissions]\nport = ${ports.submissions ?? 0}\n`,
    `[admin]\nport = ${ports.admin ?? 0}\n${keys(settings.admin)}`,
    `[shutdown]\n${keys(settings.shutdown)}`,
  ].join('');
}

/**
 * Starts the server with `config` (TOML; see childConfig) written next to the data
 * folder; resolves once every listener has said where it listens.
 */
export async function startServerChild(directory: string, config: string): Promise<ServerChild> {
  const file = path.join(directory, `postkeep-${Date.now()}-${Math.random().toString(36).slice(2)}.toml`);
  fs.writeFileSync(file, config);
  const child = spawn(process.execPath, [cliPath, '--config', file, 'start'], {
    env: { ...process.env, POSTKEEP_DATA: '', POSTKEEP_CONFIG: '', POSTKEEP_ALLOW_ROOT: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const events = () =>
    stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { event: string; [field: string]: unknown });
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
    child.stdout!.on('data', (data: Buffer) => {
      stdout += data.toString();
      if (stdout.includes('Postkeep is running')) resolve();
    });
    void exited.then(({ code }) => reject(new Error(`postkeep start exited early with ${code}: ${stderr}`)));
  });
  const logged = events();
  const find = (name: string, role?: string) => {
    const found = logged.find((entry) => entry.event === name && (role === undefined || entry.role === role));
    if (!found) throw new Error(`no ${name} ${role ?? ''} event: ${stderr}`);
    return found;
  };
  const imap = find('imap.listening');
  const ports: ChildPorts = {
    imap: imap.port as number,
    imapTls: imap.tlsPort as number,
    mx: find('smtp.listening', 'mx').port as number,
    submission: find('smtp.listening', 'submission').port as number,
    submissions: find('smtp.listening', 'submissions').port as number,
    admin: find('admin_api.listening').port as number,
  };
  return {
    child,
    ports,
    stderr: () => stderr,
    events,
    descriptors: () => fs.readdirSync(`/proc/${child.pid}/fd`).length,
    exited,
  };
}

/** Kills the child if it is still running (a test's cleanup after a failure). */
export async function killServerChild(server: ServerChild | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGKILL');
  await server.exited;
}

/** Resolves with `promise`'s value, or with `fallback` if it has not settled after `milliseconds`. */
export function within<T, F>(promise: Promise<T>, milliseconds: number, fallback: F): Promise<T | F> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(fallback), milliseconds);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}

/** A raw TCP connection that only connects: no handshake, no command (what arrives is read and dropped, so its end is seen). */
export function rawConnection(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.resume();
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}
