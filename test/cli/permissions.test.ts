// Secrets stay with the user Postkeep runs as (src/server/file-permissions.ts and the
// umask in src/cli/main.ts): the data folder is 0700, its files 0600, whether the
// command made them or found them open to everyone (then fixed, and logged).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { startServerProcess, writeEphemeralConfig } from '../helpers/server-process.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

const mode = async (file: string) => (await fs.stat(file)).mode & 0o777;

/** Every file and folder under `directory` (itself included) with its mode. */
async function modesUnder(directory: string): Promise<Map<string, number>> {
  const modes = new Map<string, number>([[directory, await mode(directory)]]);
  for (const entry of await fs.readdir(directory, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (entry.isFile() || entry.isDirectory()) modes.set(file, await mode(file));
  }
  return modes;
}

function assertPrivate(modes: Map<string, number>): void {
  for (const [file, bits] of modes) assert.equal(bits & 0o077, 0, `${file} is ${bits.toString(8)}: open to group or others`);
}

/** What `nobody` gets from `cat`: it must fail. */
function readAsNobody(file: string): number | null {
  return spawnSync('runuser', ['-u', 'nobody', '--', 'cat', file], { stdio: 'ignore' }).status;
}

const mbox = 'From alice@example.com Thu Jan  1 00:00:00 2026\nSubject: hello\n\nbody\n';

test('a new data folder is 0700 and everything start, init and import make in it is private', { timeout: 240_000 }, async () => {
  const root = await temporaryDirectory('postkeep-modes-');
  try {
    // A parent anyone may enter, so only the data folder's own modes keep `nobody` out.
    await fs.chmod(root, 0o755);
    const dataDir = path.join(root, 'data');
    const configFile = await writeEphemeralConfig(root, dataDir);
    const env = { POSTKEEP_DATA: '', POSTKEEP_CONFIG: '' };
    const cli = (args: string[], input?: string) => runCli(['--config', configFile, ...args], { env, input });
    assert.equal((await cli(['init'])).code, 0);
    assert.equal(await mode(dataDir), 0o700);
    assert.equal(await mode(path.join(dataDir, 'postkeep.db')), 0o600);
    assert.equal((await cli(['domain', 'add', 'example.com'])).code, 0);
    assert.equal((await cli(['user', 'add', 'alice@example.com'], 'correct horse battery\n')).code, 0);
    await fs.writeFile(path.join(root, 'mail.mbox'), mbox);
    assert.equal((await cli(['import', 'alice@example.com', path.join(root, 'mail.mbox')])).code, 0);
    const server = await startServerProcess(configFile);
    try {
      const modes = await modesUnder(dataDir);
      assert.ok(modes.has(path.join(dataDir, 'tls', 'key.pem')), 'start made the TLS key');
      assert.ok([...modes.keys()].some((file) => file.startsWith(path.join(dataDir, 'blobs') + path.sep) && modes.get(file) === 0o600), 'the imported message is a blob file');
      assertPrivate(modes);
      assert.notEqual(readAsNobody(path.join(dataDir, 'postkeep.db')), 0, 'nobody cannot read the database');
    } finally {
      assert.equal(await server.stop(), 0);
    }
    assertPrivate(await modesUnder(dataDir));
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('a data folder open to everyone is closed at start and by any command, and each change is logged', { timeout: 240_000 }, async () => {
  const root = await temporaryDirectory('postkeep-modes-old-');
  try {
    await fs.chmod(root, 0o755);
    const dataDir = path.join(root, 'data');
    const configFile = await writeEphemeralConfig(root, dataDir);
    const env = { POSTKEEP_DATA: '', POSTKEEP_CONFIG: '' };
    // A folder as an older version (or a careless admin) left it.
    const first = await startServerProcess(configFile);
    assert.equal(await first.stop(), 0, first.stderr() + ' signal ' + first.child.signalCode);
    const database = path.join(dataDir, 'postkeep.db');
    const key = path.join(dataDir, 'tls', 'key.pem');
    await fs.chmod(dataDir, 0o755);
    await fs.chmod(database, 0o644);
    await fs.chmod(path.join(dataDir, 'tls'), 0o755);
    await fs.chmod(key, 0o644);
    await fs.chmod(path.join(dataDir, 'queue'), 0o777);
    assert.equal(readAsNobody(database), 0, 'the set-up really is open to nobody');

    const server = await startServerProcess(configFile);
    try {
      for (const [file, from, to] of [[dataDir, '0755', '0700'], [database, '0644', '0600'], [key, '0644', '0600'], [path.join(dataDir, 'queue'), '0777', '0700']] as const) {
        assert.ok(server.stderr().includes(`"event":"server.permissions_fixed","path":${JSON.stringify(file)},"from":"${from}","to":"${to}"`), `${file} fixed and logged:\n${server.stderr()}`);
      }
      assertPrivate(await modesUnder(dataDir));
      assert.notEqual(readAsNobody(database), 0);
      assert.notEqual(readAsNobody(key), 0);
    } finally {
      assert.equal(await server.stop(), 0);
    }

    // Any command does the same (here a read-only one).
    await fs.chmod(dataDir, 0o711);
    await fs.chmod(database, 0o604);
    const listed = await runCli(['--config', configFile, 'user', 'list'], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stderr, /"event":"server.permissions_fixed","path":"[^"]*data","from":"0711","to":"0700"/);
    assert.match(listed.stderr, /"event":"server.permissions_fixed","path":"[^"]*postkeep\.db","from":"0604","to":"0600"/);
    assertPrivate(await modesUnder(dataDir));
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
