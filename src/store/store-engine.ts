// What integrity/ may do with a store that is not open: find out whether a data
// folder holds one, open a copy read-only, write a backup's snapshot into a data
// folder, set a damaged one aside. Each engine provides one (open-store.ts picks it),
// so a restore or a compare never names the engine's files.
import type { StoreSnapshot } from './store-snapshot.js';

export interface StoreEngine {
  readonly name: string;
  /** The file in a backup folder (and the manifest's `database.file`) that holds the metadata snapshot. */
  readonly snapshotFileName: string;
  /** True when `dataDir` already holds this engine's store. */
  holdsStore(dataDir: string): Promise<boolean>;
  /** True when `directory` (a data folder or a backup folder) holds metadata this engine can open. */
  holdsSnapshot(directory: string): boolean;
  /** Opens a snapshot file read-only (no migration); a damaged one is refused with a message naming it. */
  openSnapshot(file: string): StoreSnapshot;
  /** Opens the metadata of a data folder or backup folder read-only. */
  openSnapshotIn(directory: string): StoreSnapshot;
  /** An engine error that says the metadata is damaged, turned into one a person can act on; others pass through. */
  describeError(location: string, error: unknown): unknown;
  /** Removes what an earlier reader of a snapshot at `file` left beside it, so it is not replayed onto a new one. */
  clearBeside(file: string): Promise<void>;
  /** Puts a backup's snapshot file into place as `dataDir`'s store (durably); opening it then migrates it. */
  installSnapshot(snapshotFile: string, dataDir: string): Promise<void>;
  /** Moves `dataDir`'s metadata (never deleted) into `aside`; returns the snapshot file now there. */
  setAside(dataDir: string, aside: string): Promise<string>;
}
