// Reads the TOML config file (if any), applies environment overrides and checks
// everything against the schema. A bad file is refused with the key and the reason.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { ConfigError } from '../errors.js';
import { configSchema, type Config } from './schema.js';

export const defaultConfigFile = 'postkeep.toml';

export interface LoadedConfig {
  config: Config;
  /** The file read, or null when none existed and defaults apply. */
  file: string | null;
}

/**
 * @param file explicit path (must exist); otherwise $POSTKEEP_CONFIG, then
 *   ./postkeep.toml if present, else built-in defaults.
 */
export function loadConfig(file?: string, environment: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const chosen = file || environment.POSTKEEP_CONFIG || (fs.existsSync(defaultConfigFile) ? defaultConfigFile : null);
  let raw: Record<string, unknown> = {};
  if (chosen !== null) {
    let text: string;
    try {
      text = fs.readFileSync(chosen, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read the config file ${chosen}: ${(error as Error).message}`);
    }
    try {
      raw = parseToml(text) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`${chosen} is not valid TOML: ${(error as Error).message}`);
    }
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    throw new ConfigError(`${chosen ?? 'the configuration'} is invalid: ${problems.join('; ')}`);
  }
  const config = result.data;
  if (environment.POSTKEEP_DATA) config.dataDir = environment.POSTKEEP_DATA;
  // Relative paths in a file are relative to the file, so the server can start from anywhere.
  const base = chosen === null ? process.cwd() : path.dirname(path.resolve(chosen));
  config.dataDir = path.resolve(environment.POSTKEEP_DATA ? process.cwd() : base, config.dataDir);
  if (config.tls.certFile) config.tls.certFile = path.resolve(base, config.tls.certFile);
  if (config.tls.keyFile) config.tls.keyFile = path.resolve(base, config.tls.keyFile);
  config.store.blobMirrors = config.store.blobMirrors.map((directory) => path.resolve(base, directory));
  const copies = config.store.blobMirrors.length + 1;
  if (config.store.acknowledgeAfterCopies !== undefined && config.store.acknowledgeAfterCopies > copies) {
    throw new ConfigError(
      `${chosen ?? 'the configuration'} is invalid: store.acknowledgeAfterCopies is ${config.store.acknowledgeAfterCopies}, but there are only ${copies} copies (the data folder and ${copies - 1} store.blobMirrors)`,
    );
  }
  if (Boolean(config.tls.certFile) !== Boolean(config.tls.keyFile)) {
    throw new ConfigError(`${chosen ?? 'the configuration'} is invalid: tls.certFile and tls.keyFile must be given together`);
  }
  return { config, file: chosen };
}
