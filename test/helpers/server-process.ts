// `postkeep start` as a child process on ephemeral ports, for the tests of what the
// command itself does (lock, permissions, root refusal); stopped with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { cliPath } from './run-cli.js';

export const ephemeralPortsConfig = `[imap]\nport = 0\ntlsPort = 0\n[smtp.mx]\nport = 0\n[smtp.submission]\nport = 0\n[smtp.submissions]\nport = 0\n[admin]\nport = 0\n`;

/** Writes a config for `dataDir` with every listener on port 0; returns its path. */
export async function writeEphemeralConfig(directory: string, dataDir: string, extra = ''): Promise<string> {
  const file = path.join(directory, 'postkeep.toml');
  await fs.writeFile(file, `dataDir = ${JSON.stringify(dataDir)}\n${extra}${ephemeralPortsConfig}`);
  return file;
}

export interface StartedServer {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `postkeep start` and resolves once it says it is running (rejects if it exits first). */
export async function startServerProcess(configFile: string, env: NodeJS.ProcessEnv = {}): Promise<StartedServer> {
  const child = spawn(process.execPath, [cliPath, '--config', configFile, 'start'], {
    env: { ...process.env, POSTKEEP_DATA: '', POSTKEEP_CONFIG: '', POSTKEEP_ALLOW_ROOT: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (data: Buffer) => {
      stdout += data.toString();
      if (stdout.includes('Postkeep is running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`postkeep start exited early with ${code}: ${stderr}`)));
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return closed;
    },
  };
}
