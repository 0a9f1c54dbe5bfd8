// What the admin listener's probe endpoints answer, put together from the server's
// lifecycle and the store's own health; the admin server only serves it. Nothing
// here names an account: a probe is reachable without a credential.
import { renderMetrics } from '../metrics/metrics.js';
import type { ManagedStore } from '../store/managed-store.js';
import type { Lifecycle, Readiness } from './readiness.js';

export interface ReadinessReport {
  ready: boolean;
  lifecycle: Lifecycle;
  /** `writable`, `writes_refused` (a failed log fsync latched it until a restart) or `unreadable`. */
  store: 'writable' | 'writes_refused' | 'unreadable';
}

export interface HealthProbes {
  ready(): Promise<ReadinessReport>;
  metrics(): Promise<{ contentType: string; text: string }>;
}

export function createHealthProbes(store: ManagedStore, readiness: Readiness): HealthProbes {
  return {
    async ready() {
      const lifecycle = readiness.lifecycle;
      const health = await store.health().catch(() => null);
      const state = health === null ? 'unreadable' : health.writesRefused === null ? 'writable' : 'writes_refused';
      return { ready: lifecycle === 'ready' && state === 'writable', lifecycle, store: state };
    },
    async metrics() {
      return renderMetrics(await store.health());
    },
  };
}
