// DESIGN.md: integrity/ works through the store's interfaces only, and the store knows
// nothing of any wire protocol. A file under src/integrity/ or src/store/ that names a
// protocol's files (src/imap/, src/smtp/, src/jmap/) fails this test; what a protocol and
// the audit share (the spool folder's naming and listing, say) lives in a neutral module.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const sourceRoot = path.resolve(import.meta.dirname, '../../src');
const protocols = ['imap', 'smtp', 'jmap'];

/** Relative module specifiers a TypeScript source names (imports, re-exports, dynamic imports). */
function relativeSpecifiers(source: string): string[] {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const patterns = [/\bfrom\s*['"](\.[^'"]+)['"]/g, /\bimport\s*['"](\.[^'"]+)['"]/g, /\bimport\s*\(\s*['"](\.[^'"]+)['"]\s*\)/g];
  return patterns.flatMap((pattern) => [...withoutComments.matchAll(pattern)].map((match) => match[1]!));
}

function sourceFiles(folder: string): string[] {
  return (fs.readdirSync(path.join(sourceRoot, folder), { recursive: true }) as string[])
    .filter((name) => name.endsWith('.ts'))
    .map((name) => path.posix.join(folder, name.split(path.sep).join('/')));
}

test('integrity/ and store/ name no protocol module', () => {
  const violations: string[] = [];
  for (const file of [...sourceFiles('integrity'), ...sourceFiles('store')]) {
    const source = fs.readFileSync(path.join(sourceRoot, file), 'utf8');
    for (const specifier of relativeSpecifiers(source)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
      if (protocols.includes(target.split('/')[0]!)) violations.push(`${file} imports ${specifier}`);
    }
  }
  assert.deepEqual(violations, []);
});
