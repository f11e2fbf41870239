/**
 * nmap runs in a process group of its own, so that a wrapper at scan.nmap.path (a shell script, sudo, an audit
 * shim) and everything it started end together, and no read of its output outlives the cycle's bound.
 */
import type { Readable } from 'node:stream';

/** What is watched of the child: its pid and its pipes; its exit comes as a promise beside it. */
export interface GroupLeader {
  readonly pid?: number | undefined;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
}

export interface GroupSupervision {
  /** Ends the group now: SIGTERM, then SIGKILL and the pipes closed after the grace. */
  end(): void;
  /** Stops watching; call once the run is over. */
  dispose(): void;
}

/** Groups still running, ended if the exporter exits before their runs are over (a crash, an uncaught error). */
const liveGroups = new Set<number>();

function killGroupsAtExit(): void {
  for (const pid of liveGroups) killProcessGroup(pid, 'SIGKILL');
}

/**
 * Watches a child spawned with `detached: true` (its pid is its group's id). The group is ended when `signal`
 * aborts, and also when the child itself has exited but something it left behind still holds stdout open after
 * the grace: the reader must never wait on a pipe past the child's life.
 */
export function superviseProcessGroup(
  child: GroupLeader,
  exited: PromiseLike<unknown>,
  options: { signal: AbortSignal; graceMs: number },
): GroupSupervision {
  const { pid } = child;
  const timers: NodeJS.Timeout[] = [];
  let ending = false;
  let disposed = false;
  const closePipes = (): void => {
    child.stdout?.destroy();
    child.stderr?.destroy();
  };
  const end = (): void => {
    if (ending || pid === undefined) return;
    ending = true;
    killProcessGroup(pid, 'SIGTERM');
    timers.push(
      setTimeout(() => {
        killProcessGroup(pid, 'SIGKILL');
        closePipes();
      }, options.graceMs),
    );
  };
  const onExit = (): void => {
    if (disposed) return;
    timers.push(
      setTimeout(() => {
        if (child.stdout && !child.stdout.readableEnded) {
          if (pid !== undefined) killProcessGroup(pid, 'SIGKILL');
          closePipes();
        }
      }, options.graceMs),
    );
  };
  if (pid !== undefined) {
    if (liveGroups.size === 0) process.on('exit', killGroupsAtExit);
    liveGroups.add(pid);
  }
  options.signal.addEventListener('abort', end);
  exited.then(onExit, onExit);
  return {
    end,
    dispose(): void {
      disposed = true;
      options.signal.removeEventListener('abort', end);
      for (const timer of timers) clearTimeout(timer);
      if (pid !== undefined && liveGroups.delete(pid) && liveGroups.size === 0) process.off('exit', killGroupsAtExit);
    },
  };
}

export function killProcessGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The whole group has exited already.
  }
}
