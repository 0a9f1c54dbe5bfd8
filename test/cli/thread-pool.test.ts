// bin/postkeep.js gives the server a thread pool of 64 for its fsyncs unless the
// environment sets UV_THREADPOOL_SIZE; libuv fixes the size when it creates the
// pool, so this checks the threads of a running `postkeep start` (Linux /proc).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { cliPath } from '../helpers/run-cli.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

/** Starts the server with `env`, counts its threads once it runs, stops it with SIGTERM. */
async function threadsOfRunningServer(configFile: string, env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [cliPath, '--config', configFile, 'start'], { env: { ...process.env, POSTKEEP_DATA: '', POSTKEEP_CONFIG: '', POSTKEEP_ALLOW_ROOT: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      let stdout = '';
      child.stdout.on('data', (data: Buffer) => {
        stdout += data.toString();
        if (/postkeep user add|Postkeep is running/.test(stdout)) resolve();
      });
      child.on('exit', (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
    });
    return (await fs.readdir(`/proc/${child.pid}/task`)).length;
  } finally {
    const exited = new Promise((resolve) => child.once('close', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

test('postkeep start runs with 64 thread-pool threads, or the number UV_THREADPOOL_SIZE says', { skip: !existsSync('/proc/self/task'), timeout: 240_000 }, async () => {
  const directory = await temporaryDirectory('postkeep-threads-');
  try {
    const configFile = path.join(directory, 'postkeep.toml');
    await fs.writeFile(
      configFile,
      `dataDir = "data"\n[imap]\nport = 0\ntlsPort = 0\n[smtp.mx]\nport = 0\n[smtp.submission]\nport = 0\n[smtp.submissions]\nport = 0\n[admin]\nport = 0\n`,
    );
    const withDefault = await threadsOfRunningServer(configFile, { UV_THREADPOOL_SIZE: undefined });
    const withFour = await threadsOfRunningServer(configFile, { UV_THREADPOOL_SIZE: '4' });
    // The same process otherwise, so the difference is the pool: 64 - 4.
    assert.equal(withDefault - withFour, 60, `${withDefault} threads by default, ${withFour} with UV_THREADPOOL_SIZE=4`);
  } finally {
    await fs.rm(directory, { recursive: true, force: true });
  }
});
