// `npm run bench:audit -- [megabytes]`: builds a store of that many megabytes of
// mail (default 1024) through the store API, then times a full `audit` (every
// blob re-hashed, every record and derived value recomputed, SQLite's checks)
// and `sha256sum` over the same blob files — the practical limit — reporting both
// in MB/s and their ratio (the goal: at least 0.8). Both runs read from a warm
// page cache, so the comparison is of hashing and bookkeeping, not of the disk.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { auditStore } from '../src/integrity/audit.js';
import { createLogger } from '../src/log.js';
import { openStore } from '../src/store/open-store.js';

const megabytes = Number(process.argv[2] ?? 1024);
if (!Number.isFinite(megabytes) || megabytes <= 0) {
  process.stderr.write(`usage: npm run bench:audit -- [megabytes]   (a positive number, got ${JSON.stringify(process.argv[2])})\n`);
  process.exit(2);
}
const targetBytes = megabytes * 1_000_000;
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'postkeep-bench-audit-'));
const log = createLogger({ level: 'error' });

try {
  const store = await openStore({ dataDir, log });
  await store.admin.addDomain('example.com');
  await store.admin.addAccount('alice@example.com', 'x');
  const account = await store.account('alice@example.com');
  // Sizes spread like a mailbox: many small messages, some large attachments.
  const sizes = [4_000, 20_000, 60_000, 200_000, 1_000_000, 4_000_000];
  let written = 0;
  let messages = 0;
  const started = performance.now();
  while (written < targetBytes) {
    const batch = Array.from({ length: 16 }, (_, index) => {
      const size = sizes[(messages + index) % sizes.length]!;
      const body = randomBytes(Math.ceil((size * 3) / 4)).toString('base64').replace(/.{76}/g, '$&\r\n');
      return Buffer.from(`From: bench@example.org\r\nSubject: ${messages + index}\r\n\r\n${body}\r\n`);
    });
    await Promise.all(batch.map((message) => account.append('INBOX', message)));
    written += batch.reduce((sum, message) => sum + message.length, 0);
    messages += batch.length;
    process.stderr.write(`\rgenerating: ${(written / 1e6).toFixed(0)}/${megabytes} MB`);
  }
  process.stderr.write(`\rgenerated ${messages} messages, ${(written / 1e6).toFixed(0)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);

  const blobRoot = path.join(dataDir, 'blobs');
  const files = execFileSync('find', [blobRoot, '-path', path.join(blobRoot, 'tmp'), '-prune', '-o', '-path', path.join(blobRoot, 'quarantine'), '-prune', '-o', '-type', 'f', '-print0'])
    .toString()
    .split('\0')
    .filter(Boolean);
  const totalBytes = (await Promise.all(files.map((file) => fs.stat(file)))).reduce((sum, stat) => sum + stat.size, 0);
  const listFile = path.join(dataDir, 'blob-files');
  await fs.writeFile(listFile, files.join('\0'));
  // Warm the page cache once, so neither run pays for the disk and the other not.
  spawnSync('sh', ['-c', `xargs -0 cat < ${listFile} > /dev/null`]);

  const auditRuns: number[] = [];
  const sha256sumRuns: number[] = [];
  for (let run = 0; run < 3; run++) {
    let begin = performance.now();
    const report = await auditStore(store);
    auditRuns.push((performance.now() - begin) / 1000);
    if (!report.ok || report.checked.bytes !== totalBytes) throw new Error(`the audit did not verify the whole store: ${JSON.stringify(report.checked)}`);
    begin = performance.now();
    const sum = spawnSync('sh', ['-c', `xargs -0 sha256sum < ${listFile} > /dev/null`]);
    if (sum.status !== 0) throw new Error(`sha256sum failed: ${sum.stderr}`);
    sha256sumRuns.push((performance.now() - begin) / 1000);
  }
  await store.close();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const auditRate = totalBytes / 1e6 / median(auditRuns);
  const sha256sumRate = totalBytes / 1e6 / median(sha256sumRuns);
  process.stdout.write(
    JSON.stringify(
      {
        messages,
        blobFiles: files.length,
        megabytes: Number((totalBytes / 1e6).toFixed(1)),
        auditSeconds: auditRuns.map((seconds) => Number(seconds.toFixed(2))),
        sha256sumSeconds: sha256sumRuns.map((seconds) => Number(seconds.toFixed(2))),
        auditMegabytesPerSecond: Number(auditRate.toFixed(0)),
        sha256sumMegabytesPerSecond: Number(sha256sumRate.toFixed(0)),
        ratio: Number((auditRate / sha256sumRate).toFixed(2)),
        cpus: os.cpus().length,
      },
      null,
      2,
    ) + '\n',
  );
} finally {
  await fs.rm(dataDir, { recursive: true, force: true });
}
