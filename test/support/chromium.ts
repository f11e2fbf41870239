/**
 * Debian's headless Chromium for tests that check what a browser makes of a page: the DOM after parsing
 * (--dump-dom) and a screenshot. Each run gets a fresh profile directory, no network of its own (background
 * networking, component updates and sync off) and a deadline; Chromium starts helper processes, so it runs
 * in its own process group and a run past the deadline is killed group and all.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DEFAULT_TIMEOUT_MS = 60_000;

/** `--no-sandbox`: the tests run as root, where Chromium refuses its sandbox. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The page's DOM as Chromium serializes it once the page has loaded. */
export async function dumpDom(url: string, options: { timeoutMs?: number } = {}): Promise<string> {
  return (await runChromium(['--dump-dom', url], options)).stdout;
}

/** A PNG of the page at `width`×`height` CSS pixels, written to `path`. */
export async function takeScreenshot(
  url: string,
  path: string,
  size: { width: number; height: number },
  options: { timeoutMs?: number } = {},
): Promise<void> {
  await runChromium([`--screenshot=${path}`, `--window-size=${size.width},${size.height}`, url], options);
}

async function runChromium(args: readonly string[], options: { timeoutMs?: number }): Promise<{ stdout: string }> {
  const profile = await mkdtemp(join(tmpdir(), 'ee-chromium-'));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    const child = spawn('chromium', [...FLAGS, `--user-data-dir=${profile}`, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode) => resolve(exitCode));
    }).finally(() => {
      clearTimeout(timer);
      // A helper process that outlived the browser would hold the profile directory; none may stay behind.
      killGroup(child.pid);
    });
    if (timedOut)
      throw new Error(`chromium ${args.join(' ')} took longer than ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`);
    if (code !== 0) throw new Error(`chromium ${args.join(' ')} exited with ${code}; stderr: ${stderr.slice(-2000)}`);
    return { stdout };
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the whole group has already exited.
  }
}
