// The probe endpoints on the admin listener: GET /healthz/live (the process runs
// and its event loop answers: answering at all is the check), GET /healthz/ready
// (200 when it should get clients, 503 otherwise) and GET /metrics (Prometheus
// text). They bypass the admin routes so a probe every few seconds is not an
// `admin.*` action in the security log. /metrics needs a bearer credential (the
// admin server checks it); the two health answers say nothing about any account.
import type { ServerResponse } from 'node:http';
import type { HealthProbes } from '../server/health-probes.js';
import { HttpError, sendJson } from './admin-http.js';

export type Probe = 'live' | 'ready' | 'metrics';

const probePaths: ReadonlyMap<string, Probe> = new Map([
  ['/healthz/live', 'live'],
  ['/healthz/ready', 'ready'],
  ['/metrics', 'metrics'],
]);

/** The probe a path names, or null for every other path. */
export function probeFor(pathname: string): Probe | null {
  return probePaths.get(pathname) ?? null;
}

export async function answerProbe(probe: Probe, method: string, probes: HealthProbes, response: ServerResponse): Promise<void> {
  if (method !== 'GET') throw new HttpError(405, `${method} is not allowed on a probe endpoint`, { allow: 'GET' });
  if (probe === 'live') return sendJson(response, 200, { status: 'live' });
  if (probe === 'ready') {
    const report = await probes.ready();
    // RFC 9110 §15.6.4: 503 is what an orchestrator's readiness check and a load balancer read as "not now".
    return sendJson(response, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not_ready', lifecycle: report.lifecycle, store: report.store });
  }
  const { contentType, text } = await probes.metrics();
  response.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  response.end(text);
}
