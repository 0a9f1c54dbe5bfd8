// DESIGN.md: nothing outside src/store/ knows which engine is underneath. Every
// file under src/ is read and each module it names (import, export … from, a
// dynamic import(), require()) is resolved: a file outside src/store/<engine>/ that
// names an engine's files or its database driver fails this test. The factory
// files in src/store/ itself are the one way in, and are listed by name.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const sourceRoot = path.resolve(import.meta.dirname, '../../src');

/** Each engine's folder under src/store/ and the driver packages only it may use. */
const engines: Record<string, readonly string[]> = {
  sqlite: ['better-sqlite3'],
  postgres: ['pg', 'postgres', 'pg-pool', 'pg-cursor', 'pg-copy-streams'],
};

/** The factories that pick an engine from the configuration: the only way in from outside. */
const factoryFiles = new Set(['store/open-store.ts']);

interface Violation {
  file: string;
  specifier: string;
  reason: string;
}

/** Every module specifier a TypeScript source names, types included. */
export function moduleSpecifiers(source: string): string[] {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  const found: string[] = [];
  for (const pattern of patterns) for (const match of withoutComments.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/** The engine folder a file lives in (`sqlite` for src/store/sqlite/x.ts), or null. */
function engineOf(relativeFile: string): string | null {
  const parts = relativeFile.split('/');
  return parts[0] === 'store' && parts.length > 2 && parts[1]! in engines ? parts[1]! : null;
}

/** What is wrong with one file's imports; `relativeFile` is relative to src/, with forward slashes. */
export function layeringViolations(relativeFile: string, source: string): Violation[] {
  const violations: Violation[] = [];
  const home = engineOf(relativeFile);
  const factory = factoryFiles.has(relativeFile);
  for (const specifier of moduleSpecifiers(source)) {
    if (specifier.startsWith('.')) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(relativeFile), specifier));
      const engine = engineOf(target);
      if (engine !== null && engine !== home && !factory) violations.push({ file: relativeFile, specifier, reason: `names the ${engine} engine's files` });
      continue;
    }
    const packageName = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
    for (const [engine, drivers] of Object.entries(engines)) {
      if (drivers.includes(packageName) && engine !== home) violations.push({ file: relativeFile, specifier, reason: `uses the ${engine} engine's driver` });
    }
  }
  return violations;
}

function sourceFiles(directory: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(full));
    else if (/\.(ts|mts|cts|js|mjs)$/.test(entry.name)) files.push(full);
  }
  return files;
}

test('no file outside src/store/<engine>/ imports an engine or its driver (the factories excepted)', () => {
  const files = sourceFiles(sourceRoot);
  assert.ok(files.length > 100, `expected the whole source tree, found ${files.length} files`);
  const violations = files.flatMap((file) => layeringViolations(path.relative(sourceRoot, file).split(path.sep).join('/'), fs.readFileSync(file, 'utf8')));
  assert.deepEqual(
    violations.map((violation) => `${violation.file}: ${violation.specifier} (${violation.reason})`),
    [],
    'only src/store/<engine>/ and the factories in src/store/ may name an engine; go through src/store/ interfaces instead',
  );
});

test('the check sees every way a file can name an engine', () => {
  const named = (file: string, line: string) => layeringViolations(file, line).length;
  assert.equal(named('integrity/audit.ts', "import { rowChecksum } from '../store/sqlite/rows.js';"), 1);
  assert.equal(named('integrity/audit.ts', "import type { MessageRow } from '../store/sqlite/rows.js';"), 1);
  assert.equal(named('integrity/audit.ts', "export { databaseFileName } from '../store/sqlite/sqlite-store.js';"), 1);
  assert.equal(named('cli/session.ts', "const store = await import('../store/postgres/pg-store.js');"), 1);
  assert.equal(named('integrity/backup.ts', "import Database from 'better-sqlite3';"), 1);
  assert.equal(named('admin/x.ts', "import pg from 'pg';"), 1);
  assert.equal(named('admin/x.ts', "import { Pool } from 'pg-pool';"), 1);
  assert.equal(named('store/types.ts', "import { Ledger } from './sqlite/ledger.js';"), 1, 'src/store/ itself goes through the factory too');
  assert.equal(named('store/postgres/pg-store.ts', "import { Ledger } from '../sqlite/ledger.js';"), 1, 'one engine never reaches into another');
  assert.equal(named('store/sqlite/pg.ts', "import pg from 'pg';"), 1);
  // What is allowed.
  assert.equal(named('store/sqlite/account-store.ts', "import Database from 'better-sqlite3';\nimport { Ledger } from './ledger.js';"), 0);
  assert.equal(named('store/open-store.ts', "import { openSqliteStore } from './sqlite/sqlite-store.js';"), 0);
  assert.equal(named('integrity/audit.ts', "import type { IntegrityPort } from '../store/integrity-port.js';"), 0);
  assert.equal(named('integrity/audit.ts', '// better-sqlite3 is synchronous; see ../store/sqlite/rows.js'), 0, 'comments name nothing');
  assert.equal(named('store/blobs/file-blob-store.ts', "import { sha256 } from '../blob-hash.js';"), 0);
});
