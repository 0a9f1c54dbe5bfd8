import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { temporaryDirectory } from '../helpers/temporary-store.js';

const directories: string[] = [];
after(() => Promise.all(directories.map((directory) => fs.rm(directory, { recursive: true, force: true }))));

async function configFile(text: string): Promise<string> {
  const directory = await temporaryDirectory('postkeep-config-');
  directories.push(directory);
  const file = path.join(directory, 'postkeep.toml');
  await fs.writeFile(file, text);
  return file;
}

test('no file: every default, data folder relative to the working directory', () => {
  const { config, file } = loadConfig(undefined, {});
  assert.equal(file === null || file === 'postkeep.toml', true);
  if (file === null) {
    assert.equal(config.dataDir, path.resolve('data'));
    assert.equal(config.store.retentionDays, 7);
    assert.equal(config.log.level, 'info');
  }
});

test('a file sets keys, relative paths resolve against the file, env overrides the data folder', async () => {
  const file = await configFile('dataDir = "mail"\nhostname = "mx.example.com"\n[store]\nretentionDays = 30\n[log]\nlevel = "debug"\n');
  const { config } = loadConfig(file, {});
  assert.equal(config.dataDir, path.join(path.dirname(file), 'mail'));
  assert.equal(config.hostname, 'mx.example.com');
  assert.equal(config.store.retentionDays, 30);
  assert.equal(config.store.garbageCollectionHours, 6);
  assert.equal(loadConfig(file, { POSTKEEP_DATA: '/srv/postkeep' }).config.dataDir, '/srv/postkeep');
});

test('an invalid file is refused with the key and the reason', async () => {
  const cases: [string, RegExp][] = [
    ['[store]\nretentionDays = "week"\n', /store\.retentionDays: .*expected number/],
    ['[store]\nretentionDays = -1\n', /store\.retentionDays: .*>=0/],
    ['colour = "blue"\n', /Unrecognized key: "colour"/],
    ['[log]\nlevel = "loud"\n', /log\.level: /],
    ['dataDir = \n', /not valid TOML/],
    ['[tls]\ncertFile = "cert.pem"\n', /tls\.certFile and tls\.keyFile must be given together/],
  ];
  for (const [text, expected] of cases) {
    const file = await configFile(text);
    assert.throws(() => loadConfig(file, {}), (error: unknown) => error instanceof ConfigError && expected.test(error.message) && error.message.includes(file), text);
  }
  assert.throws(() => loadConfig('/nonexistent/postkeep.toml', {}), /cannot read the config file \/nonexistent\/postkeep\.toml/);
});
