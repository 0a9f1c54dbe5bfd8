// `npm run faults -- [trials]`: the fault-injection campaign. Every fault class
// is injected `trials` times (default 20) into a fresh real store with a backup;
// the table counts detections, repairs and bad bytes served (which must be 0),
// reads through the store API and through a real IMAP session (FETCH BODY[] and
// FLAGS) alike; "IMAP bodies" counts the message bodies IMAP sent, good ones.
// Exit code 1 if any trial served bad bytes, went undetected or stayed broken.
import { performance } from 'node:perf_hooks';
import { createTrial, disposeTrial, faultClasses } from '../test/integrity/fault-classes.js';

const trials = Number(process.argv[2] ?? 20);
if (!Number.isInteger(trials) || trials < 1) {
  process.stderr.write(`usage: npm run faults -- [trials]   (a positive whole number, got ${JSON.stringify(process.argv[2])})\n`);
  process.exit(2);
}

interface Row {
  fault: string;
  trials: number;
  detected: number;
  repaired: number;
  badBytesServed: number;
  imapBodies: number;
  seconds: number;
  notes: Set<string>;
}

const rows: Row[] = [];
for (const fault of faultClasses) {
  const row: Row = { fault: fault.name, trials: 0, detected: 0, repaired: 0, badBytesServed: 0, imapBodies: 0, seconds: 0, notes: new Set() };
  const started = performance.now();
  for (let trial = 0; trial < trials; trial++) {
    const setup = await createTrial({ mirrored: fault.mirrored });
    try {
      const outcome = await fault.run(setup);
      row.trials++;
      if (outcome.detected) row.detected++;
      if (outcome.repaired) row.repaired++;
      row.badBytesServed += outcome.badBytesServed;
      row.imapBodies += outcome.imapBodies;
      for (const note of outcome.notes) row.notes.add(note);
    } finally {
      await disposeTrial(setup);
    }
    process.stderr.write(`\r${fault.name}: ${trial + 1}/${trials}   `);
  }
  row.seconds = (performance.now() - started) / 1000;
  rows.push(row);
  process.stderr.write('\n');
}

const header = ['fault class', 'trials', 'detected', 'repaired', 'bad bytes served (store API + IMAP)', 'IMAP bodies read', 'seconds'];
const table = rows.map((row) => [row.fault, String(row.trials), String(row.detected), String(row.repaired), String(row.badBytesServed), String(row.imapBodies), row.seconds.toFixed(1)]);
const widths = header.map((title, column) => Math.max(title.length, ...table.map((cells) => cells[column]!.length)));
const line = (cells: string[]) => `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
process.stdout.write(`${line(header)}\n|${widths.map((width, column) => (column === 0 ? '-'.repeat(width + 2) : `${'-'.repeat(width + 1)}:`)).join('|')}|\n`);
for (const cells of table) process.stdout.write(`${line(cells)}\n`);
process.stdout.write(
  '\nSIGKILL: "detected" and "repaired" count trials where every acknowledged append survived byte-identical and audit found no error (nothing to repair) but the files of appends the kill cut short before their commit (blob.orphan: never acknowledged, so not lost).\n' +
    'ENOSPC/EIO: "detected" = the append was refused with that error; "repaired" = nothing recorded, no partial file, the next append worked.\n' +
    'EIO at database log fsync: "detected" = that append and a later one (the disk answering again) were refused; "repaired" = after a restart every acknowledged message is byte-identical, audit is clean, the next append worked.\n' +
    'corrupted database page: "repaired" = `restore --in-place` from the backup gave a store equal to it, blobs kept in place, every message byte-identical.\n' +
    'bit flip in a stored structure / size: "detected" = the read that met it logged integrity.structure_mismatch, or audit reported it; "repaired" = by that read or by `audit --repair`, from the blob alone: every derived row as before the flip, audit clean, store equal to its backup; besides BODY[], every message\'s ENVELOPE, BODYSTRUCTURE, BODY[1], BODY[HEADER] and RFC822.SIZE over IMAP are compared byte for byte with the intact store\'s.\n' +
    'random page damage: "detected" = the real `postkeep audit` completed without a stack trace and exited 1 naming an error (or exited 0 when the bytes hit changed nothing a query sees); "repaired" as for a corrupted page.\n',
);
for (const row of rows) for (const note of row.notes) process.stdout.write(`note (${row.fault}): ${note}\n`);
const failed = rows.some((row) => row.badBytesServed > 0 || row.detected < row.trials || row.repaired < row.trials);
process.exitCode = failed ? 1 : 0;
