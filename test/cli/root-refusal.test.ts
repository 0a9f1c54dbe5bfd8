// `postkeep start` does not serve mail as root (src/cli/root-refusal.ts): it says how to
// run it instead, unless allowRoot / POSTKEEP_ALLOW_ROOT overrides that; as an
// unprivileged user that owns the data folder it simply runs.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { cliPath, runCli } from '../helpers/run-cli.js';
import { startServerProcess, writeEphemeralConfig } from '../helpers/server-process.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

const isRoot = process.getuid?.() === 0;

/**
 * The checkout may sit in a folder only root can enter (a CI clone in a `mktemp -d`
 * folder), so nobody could not load the code: hard links (a copy across file
 * systems) of what `postkeep start` runs, in the test's own 0755 folder (also its
 * working folder: esbuild's child process starts there).
 */
function linkCodeWhereNobodyReads(root: string): string {
  const checkout = path.resolve(path.dirname(cliPath), '..');
  const code = path.join(root, 'code');
  mkdirSync(code, { mode: 0o755 });
  const parts = ['bin', 'src', 'node_modules', 'package.json', 'tsconfig.json'].map((part) => path.join(checkout, part));
  if (spawnSync('cp', ['-al', ...parts, code]).status !== 0) {
    assert.equal(spawnSync('cp', ['-a', ...parts, code]).status, 0, 'copy the code for nobody');
  }
  return path.join(code, 'bin', path.basename(cliPath));
}

test('as root, start refuses and says how to run it; allowRoot or POSTKEEP_ALLOW_ROOT=1 lets it run', { timeout: 240_000 }, async () => {
  const root = await temporaryDirectory('postkeep-root-');
  try {
    const dataDir = path.join(root, 'data');
    const configFile = await writeEphemeralConfig(root, dataDir);
    const refused = await runCli(['--config', configFile, 'start'], { env: { POSTKEEP_DATA: '', POSTKEEP_CONFIG: '', POSTKEEP_ALLOW_ROOT: '' } });
    if (isRoot) {
      assert.equal(refused.code, 1, refused.stdout);
      assert.match(refused.stderr, /^postkeep: refusing to serve mail as root: run `postkeep start` as a dedicated user .*CAP_NET_BIND_SERVICE.*allowRoot = true or POSTKEEP_ALLOW_ROOT=1/);
      assert.equal(existsSync(dataDir), false, 'refused before anything was made');
      const allowedByEnvironment = await startServerProcess(configFile, { POSTKEEP_ALLOW_ROOT: '1' });
      assert.equal(await allowedByEnvironment.stop(), 0);
      const allowingConfig = await writeEphemeralConfig(root, dataDir, 'allowRoot = true\n');
      const allowedByConfig = await startServerProcess(allowingConfig, { POSTKEEP_ALLOW_ROOT: '' });
      assert.equal(await allowedByConfig.stop(), 0);
    } else {
      // Not root: nothing to refuse (the refusal itself needs a root run, as in CI).
      assert.notEqual(refused.code, 1, refused.stderr);
    }
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('an unprivileged user that owns the data folder runs start without any override', { timeout: 240_000 }, async () => {
  const root = await temporaryDirectory('postkeep-nobody-');
  try {
    await fs.chmod(root, 0o755);
    const dataDir = path.join(root, 'data');
    await fs.mkdir(dataDir);
    const configFile = await writeEphemeralConfig(root, dataDir);
    await fs.chmod(configFile, 0o644);
    // As root (CI), become nobody; otherwise this user is already unprivileged.
    if (isRoot) await fs.chown(dataDir, 65534, 65534);
    // setpriv execs the server in its own place (runuser would stand between, as a parent).
    const command = isRoot ? 'setpriv' : process.execPath;
    const program = isRoot ? linkCodeWhereNobodyReads(root) : cliPath;
    const args = isRoot ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, program, '--config', configFile, 'start'] : [cliPath, '--config', configFile, 'start'];
    const child = spawn(command, args, { cwd: root, env: { ...process.env, POSTKEEP_DATA: '', POSTKEEP_CONFIG: '', POSTKEEP_ALLOW_ROOT: '', HOME: root }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (data: Buffer) => {
        stdout += data.toString();
        if (stdout.includes('Postkeep is running')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
    });
    const database = await fs.stat(path.join(dataDir, 'postkeep.db'));
    if (isRoot) assert.equal(database.uid, 65534, 'the store belongs to the user that runs the server');
    child.kill('SIGTERM');
    assert.equal(await closed, 0, stderr);
    assert.match(stderr, /"event":"server.stopped"/);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
