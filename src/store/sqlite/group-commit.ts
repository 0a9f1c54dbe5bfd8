// Group commit (invariant 1, made fast): every write waits for the next commit,
// and one commit serves every write that arrived while the previous one ran. Each
// write runs in its own savepoint, so one failing (say, over quota) does not undo
// the others that share its transaction.
import type { SqliteDatabase } from './database.js';

interface PendingWrite {
  work: () => unknown;
  directories: readonly string[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  private queue: PendingWrite[] = [];
  private flushing = false;

  /**
   * @param grouped false gives one transaction (and one fsync) per write: the
   *   baseline the benchmark compares against.
   */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly syncDirectories: (directories: string[]) => Promise<void>,
    private readonly grouped = true,
  ) {}

  /**
   * Runs `work` inside a transaction after the `directories` (holding newly renamed
   * blob files) have been fsynced; resolves once the transaction is durable.
   */
  run<T>(work: () => T, directories: readonly string[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, directories, resolve: resolve as (value: unknown) => void, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Resolves when everything queued so far has committed. */
  async idle(): Promise<void> {
    while (this.flushing) await new Promise((resolve) => setImmediate(resolve));
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.grouped ? this.queue.splice(0) : this.queue.splice(0, 1);
      const outcomes: { ok: boolean; value: unknown }[] = [];
      try {
        await this.syncDirectories(batch.flatMap((write) => write.directories));
        this.db.transaction(() => {
          for (const write of batch) {
            try {
              outcomes.push({ ok: true, value: this.db.transaction(write.work)() });
            } catch (error) {
              outcomes.push({ ok: false, value: error });
            }
          }
        })();
      } catch (error) {
        // The commit itself failed: nothing in the batch is durable.
        for (const write of batch) write.reject(error);
        continue;
      }
      batch.forEach((write, index) => {
        const outcome = outcomes[index]!;
        if (outcome.ok) write.resolve(outcome.value);
        else write.reject(outcome.value);
      });
    }
    this.flushing = false;
  }
}
