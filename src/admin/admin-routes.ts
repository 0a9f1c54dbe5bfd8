// The admin API's routes: a method, a path pattern (`:name` segments are
// parameters), the action name logged as `admin.<action>`, and a handler.
import type { Logger } from '../log.js';
import type { ManagedStore } from '../store/managed-store.js';
import type { AdminSessions } from './admin-sessions.js';
import { HttpError } from './admin-http.js';

export interface Actor {
  /** `token:<name>` or the admin's login. */
  name: string;
  kind: 'token' | 'session';
  /** The bearer credential itself, so DELETE /session can end its own session. */
  bearer: string;
}

export interface AdminContext {
  store: ManagedStore;
  log: Logger;
  sessions: AdminSessions;
  anchorFile: string;
}

export interface AdminRequest {
  /** Null only on the public route (POST /session). */
  actor: Actor | null;
  address: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

export interface RouteResult {
  status?: number;
  body: unknown;
  /** More fields for the `admin.<action>` event (never a secret). */
  logFields?: Record<string, unknown>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  action: string;
  /** Reachable without a bearer credential: only POST /session, which is itself the login. */
  public?: boolean;
  handle(context: AdminContext, request: AdminRequest): Promise<RouteResult>;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/** The route for a method and path; a known path with another method is a 405. */
export function matchRoute(routes: readonly Route[], method: string, pathname: string): RouteMatch | null {
  const segments = pathname.split('/').filter((segment) => segment !== '');
  let pathMatched = false;
  for (const route of routes) {
    const pattern = route.path.split('/').filter((segment) => segment !== '');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let matched = true;
    for (let index = 0; index < pattern.length; index++) {
      const expected = pattern[index]!;
      const actual = segments[index]!;
      if (expected.startsWith(':')) {
        try {
          params[expected.slice(1)] = decodeURIComponent(actual);
        } catch {
          throw new HttpError(400, `the path segment ${JSON.stringify(actual)} is not valid percent-encoding`);
        }
      } else if (expected !== actual) {
        matched = false;
        break;
      }
    }
    if (!matched) continue;
    pathMatched = true;
    if (route.method === method) return { route, params };
  }
  if (pathMatched) throw new HttpError(405, `${method} is not allowed on ${pathname}`);
  return null;
}

export function positiveId(text: string, what: string): number {
  if (!/^[0-9]{1,15}$/.test(text) || Number(text) <= 0) throw new HttpError(400, `${JSON.stringify(text)} is not ${what}`);
  return Number(text);
}
