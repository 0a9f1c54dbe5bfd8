import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { cliPath, runCli } from '../helpers/run-cli.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

test('start makes the data folder and a self-signed certificate, says how to add a user, stops on SIGTERM', { timeout: 60_000 }, async () => {
  const dataDir = path.join(await temporaryDirectory('postkeep-start-'), 'data');
  const child = spawn(process.execPath, [cliPath, 'start'], { env: { ...process.env, POSTKEEP_DATA: dataDir, POSTKEEP_CONFIG: '', POSTKEEP_ALLOW_ROOT: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
      if (stdout.includes('postkeep user add')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
  });
  assert.match(stdout, /No users yet\. Add the first one with:\n  postkeep domain add example\.com\n  postkeep user add alice@example\.com/);
  await fs.access(path.join(dataDir, 'postkeep.db'));
  const certificate = new X509Certificate(await fs.readFile(path.join(dataDir, 'tls', 'cert.pem')));
  assert.match(certificate.subjectAltName ?? '', /DNS:localhost/);
  assert.ok(new Date(certificate.validTo) > new Date());
  const keyMode = (await fs.stat(path.join(dataDir, 'tls', 'key.pem'))).mode & 0o777;
  assert.equal(keyMode, 0o600, 'the private key is readable by its owner only');
  const events = stderr.trim().split('\n').map((line) => JSON.parse(line) as { event: string });
  assert.ok(events.some((event) => event.event === 'server.started'), 'logs are structured JSON events');
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.match(stderr, /"event":"server.stopped"/);

  // A second start keeps the certificate it made the first time.
  const before = await fs.readFile(path.join(dataDir, 'tls', 'cert.pem'));
  const again = spawn(process.execPath, [cliPath, 'start'], { env: { ...process.env, POSTKEEP_DATA: dataDir, POSTKEEP_CONFIG: '', POSTKEEP_ALLOW_ROOT: '1' }, stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve) => again.stdout.on('data', (data: Buffer) => data.toString().includes('Postkeep is running') && resolve()));
  again.kill('SIGTERM');
  await new Promise((resolve) => again.on('exit', resolve));
  assert.deepEqual(await fs.readFile(path.join(dataDir, 'tls', 'cert.pem')), before);
  await fs.rm(path.dirname(dataDir), { recursive: true, force: true });
});

test('start refuses an invalid config with the key and the reason', async () => {
  const directory = await temporaryDirectory('postkeep-badconfig-');
  const file = path.join(directory, 'postkeep.toml');
  await fs.writeFile(file, '[store]\nretentionDays = "soon"\n');
  const result = await runCli(['--config', file, 'start'], { env: { POSTKEEP_DATA: '' } });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /store\.retentionDays: Invalid input: expected number/);
  await fs.rm(directory, { recursive: true, force: true });
});
