// fsync of a directory: what makes a create or a rename in it survive a crash;
// and a file copied into place so that a crash leaves the old file or the whole new one.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

export async function syncDirectory(directory: string): Promise<void> {
  const handle = await fs.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Copies `source` to `destination` through a fsynced temporary file, a rename and a directory fsync. */
export async function copyFileDurably(source: string, destination: string): Promise<void> {
  const partial = `${destination}.partial`;
  await fs.copyFile(source, partial);
  const handle = await fs.open(partial, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(partial, destination);
  await syncDirectory(path.dirname(destination));
}
