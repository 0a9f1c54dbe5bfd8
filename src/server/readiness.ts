// Where the server is in its life, for the readiness probe: "starting" until every
// listener is up (the store was opened, so its migrations are done), "ready", then
// "stopping" from the first moment of stop(), so a load balancer sends no new
// client while the server drains.
export type Lifecycle = 'starting' | 'ready' | 'stopping';

export class Readiness {
  private current: Lifecycle = 'starting';

  get lifecycle(): Lifecycle {
    return this.current;
  }

  /** Every listener is up. A server that began stopping stays stopping. */
  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
  }

  markStopping(): void {
    this.current = 'stopping';
  }
}
