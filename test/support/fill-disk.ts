/** Fills a (small, test-mounted) file system: appends to one file until it says ENOSPC. */
import { appendFile } from 'node:fs/promises';

export async function fillDisk(path: string): Promise<void> {
  const chunk = Buffer.alloc(1024, 0x78);
  for (;;) {
    try {
      await appendFile(path, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return;
      throw err;
    }
  }
}
