// The background scrub inside the server: re-verifies every blob copy once per
// period (default 7 days), paced so that it reads no faster than its I/O budget,
// repairs a bad copy from a good one, and reports what it found as events.
// Silent corruption is found on a schedule, not only when someone reads the mail.
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import type { BlobCopy, BlobState } from '../store/blob-copy.js';
import { isBlobHash } from '../store/blob-hash.js';
import type { IntegrityPort } from '../store/integrity-port.js';

export interface ScrubOptions {
  /** Days one pass over every blob is spread across. */
  periodDays: number;
  /** The most the scrub reads per second, in MB. */
  megabytesPerSecond: number;
  log: Logger;
}

export interface ScrubPass {
  blobs: number;
  bytes: number;
  problems: number;
  repaired: number;
  seconds: number;
}

export interface Scrubber {
  /** One whole pass now, paced by the budget only (the server's loop also spreads it over the period). */
  runPass(): Promise<ScrubPass>;
  stop(): Promise<void>;
}

const batchSize = 200;

export function startScrub(store: IntegrityPort, options: ScrubOptions, runInBackground = true): Scrubber {
  let stopped = false;
  let wake: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  const nap = (milliseconds: number, background: boolean) =>
    new Promise<void>((resolve) => {
      if (stopped || milliseconds <= 0) return resolve();
      wake = resolve;
      timer = setTimeout(resolve, milliseconds);
      // The background loop never keeps a stopping process alive; a pass someone awaits does.
      if (background) timer.unref();
    });
  // setTimeout fires at once past 2^31-1 ms (about 24 days): long waits go in steps.
  const sleep = async (milliseconds: number, background: boolean) => {
    const until = Date.now() + milliseconds;
    while (!stopped && Date.now() < until) await nap(Math.min(until - Date.now(), 2 ** 31 - 1), background);
  };
  const budget = options.megabytesPerSecond * 1e6;

  async function pass(spreadOverPeriod: boolean): Promise<ScrubPass> {
    const started = performance.now();
    const totalBytes = store.blobBytes();
    const copies = 1 + store.blobMirrors.length;
    // Bytes per second: the period's pace, never above the budget.
    const rate = spreadOverPeriod ? Math.min(budget, Math.max((totalBytes * copies) / (options.periodDays * 86_400), 1)) : budget;
    const result: ScrubPass = { blobs: 0, bytes: 0, problems: 0, repaired: 0, seconds: 0 };
    let cursor = '';
    while (!stopped) {
      const rows = store.blobPage(cursor, batchSize);
      if (rows.length === 0) break;
      for (const row of rows) {
        if (stopped) break;
        cursor = row.hash;
        if (store.isWriting(row.hash)) continue;
        // A damaged hash names no file: reported (audit names the row), and the pass goes on past it.
        if (!isBlobHash(row.hash)) {
          options.log.error('integrity.blob_row_malformed', { hash: String(row.hash).slice(0, 80) });
          result.problems++;
          continue;
        }
        const outcome = await scrubBlob(store, row.hash, options.log);
        result.blobs++;
        result.bytes += row.size * copies;
        result.problems += outcome.problems;
        result.repaired += outcome.repaired;
        const due = (result.bytes / rate) * 1000 - (performance.now() - started);
        await sleep(due, spreadOverPeriod);
      }
    }
    result.seconds = Number(((performance.now() - started) / 1000).toFixed(3));
    options.log.info('integrity.scrub_completed', { ...result });
    return result;
  }

  const loop = (async () => {
    if (!runInBackground) return;
    while (!stopped) {
      const started = Date.now();
      try {
        await pass(true);
      } catch (error) {
        options.log.error('integrity.scrub_failed', { error: String(error) });
      }
      await sleep(options.periodDays * 86_400_000 - (Date.now() - started), true);
    }
  })();

  return {
    runPass: () => pass(false),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}

/** Checks every copy of one blob; a bad one is moved aside and rewritten from a good one. */
async function scrubBlob(store: IntegrityPort, hash: string, log: Logger): Promise<{ problems: number; repaired: number }> {
  const copies: BlobCopy[] = [store.blobs, ...store.blobMirrors];
  const states: BlobState[] = [];
  for (const copy of copies) states.push(await copy.inspect(hash));
  if (states.every((state) => state === 'good')) return { problems: 0, repaired: 0 };
  // The garbage collector may have removed it meanwhile: that is not a finding.
  if (!store.knowsBlob(hash)) return { problems: 0, repaired: 0 };
  const goodIndex = states.indexOf('good');
  let good: Buffer | null = null;
  if (goodIndex >= 0) good = await copies[goodIndex]!.read(hash).catch(() => null);
  let problems = 0;
  let repaired = 0;
  for (const [index, copy] of copies.entries()) {
    if (states[index] === 'good') continue;
    problems++;
    log.error('integrity.scrub_finding', { blob: hash, copy: copy.root, state: states[index] });
    if (states[index] === 'mismatch') await copy.quarantine(hash);
    if (good) {
      await copy.restore(hash, good);
      repaired++;
      log.warn('integrity.repaired', { blob: hash, copy: copy.root, from: copies[goodIndex]!.root });
    }
  }
  return { problems, repaired };
}
