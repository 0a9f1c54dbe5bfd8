// The writer of the tamper-evident security log. Events are buffered and appended
// in batches (one transaction, one fsync per batch, a few milliseconds apart), so a
// storm of failed logins does not stall the event loop with an fsync per attempt.
// After each batch the anchor file moves forward, once the entry it recorded is found
// still in place (see anchor.ts).
import type { EventFields, Logger } from '../log.js';
import type { MailStore, SecurityLogDraft } from '../store/types.js';
import { advanceAnchor, anchorFile } from './anchor.js';
import { securityLogDraft } from './security-events.js';

export interface SecurityLogOptions {
  dataDir: string;
  /** Where the writer reports its own trouble; never a logger that feeds back into this one. */
  log: Logger;
  /** How long the first event of a batch waits for others (default 5 ms). */
  batchMilliseconds?: number;
  /** Events held while the database cannot be written; beyond this they are counted and dropped. */
  maxPending?: number;
  /**
   * Most events per transaction (default 256). The embedded store writes synchronously,
   * so one huge batch would stall the event loop; between batches other work runs.
   */
  maxBatch?: number;
}

export class SecurityLog {
  readonly anchorFile: string;
  private store: MailStore | null = null;
  private pending: SecurityLogDraft[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private readonly batchMilliseconds: number;
  private readonly maxPending: number;
  private readonly maxBatch: number;

  constructor(private readonly options: SecurityLogOptions) {
    this.anchorFile = anchorFile(options.dataDir);
    this.batchMilliseconds = options.batchMilliseconds ?? 5;
    this.maxPending = options.maxPending ?? 100_000;
    this.maxBatch = options.maxBatch ?? 256;
  }

  /** Events recorded before the store is open wait for it here. */
  attach(store: MailStore): void {
    this.store = store;
    if (this.pending.length > 0) this.schedule();
  }

  record(event: string, fields: EventFields = {}): void {
    if (this.pending.length >= this.maxPending) {
      this.dropped++;
      return;
    }
    this.pending.push(securityLogDraft(event, fields));
    this.schedule();
  }

  /** Appends everything recorded so far; resolves once it is durable (or has failed). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flushing) await this.flushing;
    while ((this.pending.length > 0 || this.dropped > 0) && this.store) {
      const appended = this.appendPending();
      this.flushing = appended.then(() => undefined).finally(() => (this.flushing = null));
      // A failed append put its batch back: stop here, the retry timer takes over.
      if (!(await appended)) return;
      if (this.pending.length > 0) await new Promise((resolve) => setImmediate(resolve));
      while (this.flushing) await this.flushing;
    }
  }

  /** Flushes and lets go of the store: call before the store closes. */
  async close(): Promise<void> {
    await this.flush();
    this.store = null;
  }

  private schedule(): void {
    if (this.timer || !this.store) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.batchMilliseconds);
  }

  /** Appends one batch; false when it failed and was put back. */
  private async appendPending(): Promise<boolean> {
    const store = this.store;
    if (!store) return false;
    const batch = this.pending.splice(0, this.maxBatch);
    if (this.dropped > 0) {
      // The gap itself goes on the record.
      batch.push(securityLogDraft('integrity.security_log_dropped', { count: this.dropped }));
      this.dropped = 0;
    }
    let entries;
    try {
      entries = await store.admin.appendSecurityLog(batch);
    } catch (error) {
      this.pending = [...batch, ...this.pending].slice(0, this.maxPending);
      this.options.log.error('security_log.append_failed', { error: String(error), pending: this.pending.length });
      // Try again a little later rather than spin; the events wait in memory meanwhile.
      if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = null;
          void this.flush();
        }, 1000);
        this.timer.unref();
      }
      return false;
    }
    const last = entries[entries.length - 1];
    if (!last) return true;
    try {
      const entryAt = async (sequence: number) => (await store.admin.readSecurityLog({ afterSequence: sequence - 1, limit: 1 })).find((entry) => entry.sequence === sequence) ?? null;
      const lost = await advanceAnchor(this.anchorFile, { sequence: last.sequence, hash: last.hash }, entryAt);
      if (lost) {
        // The entry the anchor recorded is gone: the log was cut. The anchor file keeps it
        // (log verify reports it from now on), and the chain itself records the finding.
        const fields = { sequence: lost.sequence, hash: lost.hash, head: last.sequence };
        this.options.log.error('integrity.security_log_truncated', fields);
        this.record('integrity.security_log_truncated', fields);
      }
    } catch (error) {
      this.options.log.error('security_log.anchor_failed', { file: this.anchorFile, error: String(error) });
    }
    return true;
  }
}
