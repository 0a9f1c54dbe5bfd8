// fsync of a directory: what makes a create or a rename in it survive a crash.
import * as fs from 'node:fs/promises';

export async function syncDirectory(directory: string): Promise<void> {
  const handle = await fs.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
