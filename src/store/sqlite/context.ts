// What the SQLite store's parts share: the database, the blob files, the group
// committer, the bookkeeping ledger and the change notifier.
import type { Logger } from '../../log.js';
import type { FileBlobStore } from '../blobs/file-blob-store.js';
import type { ChangeNotifier } from '../change-notifier.js';
import type { SqliteDatabase } from './database.js';
import type { GroupCommit } from './group-commit.js';
import type { Ledger } from './ledger.js';

export class StoreContext {
  /** Blob hashes being written right now: the garbage collector must not remove them. */
  readonly blobsInFlight = new Map<string, number>();

  constructor(
    readonly db: SqliteDatabase,
    readonly blobs: FileBlobStore,
    readonly commit: GroupCommit,
    readonly ledger: Ledger,
    readonly notifier: ChangeNotifier,
    readonly log: Logger,
    readonly retentionMilliseconds: number,
  ) {}

  /** Runs `work` in the next group commit; resolves once durable, then tells watchers. */
  async write<T>(work: () => T, directories: readonly string[] = []): Promise<T> {
    let changes: ReturnType<Ledger['takeChanges']> = [];
    const value = await this.commit.run(() => {
      this.ledger.begin();
      const result = work();
      changes = this.ledger.takeChanges();
      return result;
    }, directories);
    this.notifier.publish(changes);
    return value;
  }

  holdBlob(hash: string): void {
    this.blobsInFlight.set(hash, (this.blobsInFlight.get(hash) ?? 0) + 1);
  }

  releaseBlob(hash: string): void {
    const count = (this.blobsInFlight.get(hash) ?? 1) - 1;
    if (count <= 0) this.blobsInFlight.delete(hash);
    else this.blobsInFlight.set(hash, count);
  }
}
