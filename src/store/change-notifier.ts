// In-process fan-out of committed changes, per account: what IMAP IDLE (and later
// JMAP push) subscribe to. Listeners run after the commit, never inside it, and a
// listener that throws cannot disturb the writer or other listeners.
import type { Logger } from '../log.js';
import type { Change, ChangeListener } from './types.js';

export class ChangeNotifier {
  private readonly listeners = new Map<number, Set<ChangeListener>>();

  constructor(private readonly log: Logger) {}

  subscribe(accountId: number, listener: ChangeListener): () => void {
    let set = this.listeners.get(accountId);
    if (!set) this.listeners.set(accountId, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0) this.listeners.delete(accountId);
    };
  }

  publish(changes: readonly (Change & { accountId: number })[]): void {
    for (const { accountId, ...change } of changes) {
      for (const listener of this.listeners.get(accountId) ?? []) {
        try {
          listener(change);
        } catch (error) {
          this.log.error('store.listener_failed', { error: String(error) });
        }
      }
    }
  }
}
