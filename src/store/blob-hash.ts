// A blob's name is the SHA-256 of its bytes, in lowercase hex (invariant 2). A value
// that is not one names no file: a damaged row, never a path to open.
const sha256Hex = /^[0-9a-f]{64}$/;

export function isBlobHash(value: unknown): value is string {
  return typeof value === 'string' && sha256Hex.test(value);
}
