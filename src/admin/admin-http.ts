// The HTTP plumbing of the admin API: bounded JSON bodies, JSON answers, and one
// place that turns errors into status codes. No answer ever carries a stack trace.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AlreadyExists, InvalidInput, NotFound, PasswordCheckBusy, PostkeepError, QuotaExceeded } from '../errors.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The request body parsed as JSON; an empty body is `{}`. */
export async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new HttpError(413, `the body is larger than ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError(413, `the body is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, `the body is not valid JSON: ${(error as Error).message}`);
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body) + '\n';
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  response.end(text);
}

/** The status and message for an error; null for an unexpected one (a 500 with no details). */
export function describeError(error: unknown): { status: number; message: string; headers?: Record<string, string> } | null {
  if (error instanceof HttpError) return { status: error.status, message: error.message, headers: error.headers };
  if (error instanceof NotFound) return { status: 404, message: error.message };
  if (error instanceof AlreadyExists) return { status: 409, message: error.message };
  if (error instanceof QuotaExceeded) return { status: 409, message: error.message };
  if (error instanceof InvalidInput) return { status: 400, message: error.message };
  // Too many password checks at once (auth/hash-limiter.ts): RFC 9110 §15.6.4, try again shortly.
  if (error instanceof PasswordCheckBusy) return { status: 503, message: error.message, headers: { 'retry-after': '1' } };
  // Damaged data or a newer schema is the server's problem, not the request's: a plain 500.
  if (error instanceof PostkeepError && !error.code.startsWith('integrity.') && error.code !== 'schema.too_new') return { status: 400, message: error.message };
  return null;
}

/** A JSON object body, or a 400 that says what was expected. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

export function stringField(body: Record<string, unknown>, name: string, options: { optional?: boolean; maxLength?: number } = {}): string | undefined {
  const value = body[name];
  if (value === undefined && options.optional) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new HttpError(400, `"${name}" must be a non-empty string`);
  if (value.length > (options.maxLength ?? 1024)) throw new HttpError(400, `"${name}" is too long`);
  return value;
}

/** A non-negative whole number, null (no limit), or absent (unchanged). */
export function limitField(body: Record<string, unknown>, name: string): number | null | undefined {
  const value = body[name];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new HttpError(400, `"${name}" must be a whole number of at least 0, or null for no limit`);
  return value;
}
