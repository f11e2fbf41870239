/**
 * An nmap path a test can switch between the real nmap and one of the fakes (test/fixtures/fake-nmap/switch),
 * delete and bring back, so one exporter process sees a good cycle and then a fault without a reload.
 */
import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const SWITCH = new URL('../fixtures/fake-nmap/switch', import.meta.url).pathname;

/** "real", or the name of a fake in test/fixtures/fake-nmap/. */
export type NmapMode = 'real' | 'hang' | 'exit1' | 'garbage' | 'truncated' | 'hostile' | 'endless';

export interface SwitchableNmap {
  /** What scan.nmap.path must name. */
  readonly path: string;
  setMode(mode: NmapMode): Promise<void>;
  /** Forgets the last scan's pid, so waitForScanPid() waits for a scan started after this call. */
  forgetScanPid(): Promise<void>;
  /** The pid of the scanning nmap; it may still be spawning when exposure_scan_in_progress turns 1. */
  waitForScanPid(timeoutMs?: number): Promise<number>;
  /** Deletes the path: nmap "disappears" (uninstalled, a volume unmounted). */
  remove(): Promise<void>;
  restore(): Promise<void>;
}

export async function createSwitchableNmap(dir: string, mode: NmapMode = 'real'): Promise<SwitchableNmap> {
  const path = join(dir, 'nmap');
  const pidFile = `${path}.pid`;
  await symlink(SWITCH, path);
  await writeFile(`${path}.mode`, `${mode}\n`);
  return {
    path,
    setMode: (next) => writeFile(`${path}.mode`, `${next}\n`),
    forgetScanPid: () => rm(pidFile, { force: true }),
    async waitForScanPid(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = await readFile(pidFile, 'utf8').catch(() => '');
        if (text.trim() !== '') return Number(text.trim());
        if (Date.now() > deadline) throw new Error(`no scan pid in ${pidFile} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    remove: () => rm(path),
    restore: () => symlink(SWITCH, path),
  };
}
