// `-c/--config` works before or after the subcommand: `postkeep start -c f` and
// `npm start -- -c f` (which runs `postkeep start -c f`) are how people write it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

test('-c and --config are taken before and after the subcommand', { timeout: 120_000 }, async () => {
  const root = await temporaryDirectory('postkeep-config-option-');
  try {
    const dataDir = path.join(root, 'data');
    const configFile = path.join(root, 'postkeep.toml');
    await fs.writeFile(configFile, `dataDir = ${JSON.stringify(dataDir)}\n`);
    const env = { POSTKEEP_DATA: '', POSTKEEP_CONFIG: '' };
    const made = await runCli(['init', '-c', configFile], { env });
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stdout, `made a new store in ${dataDir}\n`);
    for (const args of [['domain', 'add', 'example.com', '--config', configFile], ['-c', configFile, 'domain', 'add', 'example.org'], ['domain', '-c', configFile, 'add', 'example.net']]) {
      const result = await runCli(args, { env });
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    }
    assert.equal((await runCli(['domain', 'list', '-c', configFile], { env })).stdout, 'example.com\nexample.net\nexample.org\n');
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
