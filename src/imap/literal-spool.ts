// APPEND literals too large to hold in memory are written to files in the spool folder
// (`<dataDir>/imap-spool`, see src/server/spool-folder.ts) as they arrive, and read back
// when the command runs.
import * as fs from 'node:fs/promises';
import { newSpoolFile } from '../server/spool-folder.js';

/** An APPEND literal on its way to disk. Its room in the spool budgets is released once, when it is discarded. */
export class LiteralSpool {
  readonly file: string;
  private handle: Promise<fs.FileHandle>;
  private pending: Promise<unknown>;
  private failed: Error | null = null;
  private discarded = false;
  inFlight = 0;

  constructor(
    directory: string,
    private readonly release: () => void = () => {},
  ) {
    this.file = newSpoolFile(directory);
    this.handle = fs.open(this.file, 'wx', 0o600);
    this.pending = this.handle;
  }

  write(data: Buffer, onDrained: () => void): void {
    const copy = Buffer.from(data);
    this.inFlight += copy.length;
    this.pending = this.pending
      .then(async () => {
        // After a failed write (a full disk) the rest is not written: the APPEND fails with that error.
        if (!this.failed) await (await this.handle).write(copy);
      })
      .catch((error: Error) => {
        this.failed = error;
      })
      .finally(() => {
        this.inFlight -= copy.length;
        onDrained();
      });
  }

  async finish(): Promise<void> {
    await this.pending;
    await (await this.handle).close().catch(() => {});
    if (this.failed) throw this.failed;
  }

  async discard(): Promise<void> {
    if (this.discarded) return;
    this.discarded = true;
    await this.pending.catch(() => {});
    await (await this.handle.catch(() => null))?.close().catch(() => {});
    await fs.rm(this.file, { force: true });
    this.release();
  }
}
