import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Makes a file's directory entry durable: a file created or renamed is on disk only once its
 * folder is synced too (as SQLite syncs the folder of a file it creates).
 */
export async function syncDirectoryOf(file: string): Promise<void> {
  const directory = await open(dirname(file), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
