// SHA-256 of a file of any size, streamed, with its length.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const hasher = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    hasher.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hasher.digest('hex'), bytes };
}
