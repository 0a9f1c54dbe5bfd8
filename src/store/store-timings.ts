// A neutral hook for how long the store's durable steps take (a commit of the
// metadata, the fsync of its log), so metrics can count them without knowing the
// engine: src/metrics/ installs an observer, an engine reports through it.

export interface StoreTimingObserver {
  /** One metadata transaction (a group commit of `writes` writes), in seconds. */
  committed(seconds: number, writes: number): void;
  /** One fsync of the metadata log, in seconds. */
  logSynced(seconds: number): void;
}

let observer: StoreTimingObserver | null = null;

/** Sets the one process-wide observer (null removes it). */
export function observeStoreTimings(next: StoreTimingObserver | null): void {
  observer = next;
}

export function reportCommit(seconds: number, writes: number): void {
  observer?.committed(seconds, writes);
}

export function reportLogSync(seconds: number): void {
  observer?.logSynced(seconds);
}
