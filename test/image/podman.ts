/**
 * The project's Dockerfile built and run with Debian's podman. No registry is reachable here, so the base image
 * is a local stand-in under the name the Dockerfile uses: Debian bookworm from `debootstrap --variant=minbase`,
 * the Node.js 24 binary of the npm registry's `node` package (the one `npm ci` installed) and npm from the npm
 * registry. The stand-in alone carries this machine's CA bundle (NODE_EXTRA_CA_CERTS), which `npm ci` inside the
 * build needs behind the TLS-intercepting proxy; the Dockerfile stays as Docker users build it. Requires root.
 */
import { access, cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readToolOutput, runTool } from '../support/run-tool.ts';
import type { ToolResult } from '../support/run-tool.ts';

const REPO = new URL('../../', import.meta.url).pathname;
export const BASE_IMAGE = 'docker.io/library/node:24-bookworm-slim';
export const IMAGE = 'localhost/exposure-exporter:image-test';
const CONTAINERS_CONF = new URL('./containers.conf', import.meta.url).pathname;
/** A stand-in built from other inputs (another Node.js, another npm) is rebuilt: the label says which. */
const STAND_IN_LABEL = 'org.exposure-exporter.stand-in';
const NPM_VERSION = '11';
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const STAND_IN_CA_BUNDLE = '/usr/local/share/host-ca-bundle.crt';
const BUILD_TIMEOUT_MS = 600_000;

export function runPodman(
  args: readonly string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<ToolResult> {
  return runTool('podman', args, {
    env: { ...process.env, CONTAINERS_CONF },
    timeoutMs: options.timeoutMs ?? 120_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
}

export async function readPodman(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<string> {
  const result = await runPodman(args, options);
  if (result.code !== 0)
    throw new Error(`podman ${args.join(' ')} failed with exit code ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Builds the stand-in base image unless one built from the same Node.js is there already; returns whether it built. */
export async function ensureStandInImage(): Promise<boolean> {
  const wanted = `node ${process.version}, npm ${NPM_VERSION}`;
  const existing = await runPodman([
    'image',
    'inspect',
    '--format',
    `{{index .Labels "${STAND_IN_LABEL}"}}`,
    BASE_IMAGE,
  ]);
  if (existing.code === 0 && existing.stdout.trim() === wanted) return false;
  const work = await mkdtemp(join(tmpdir(), 'ee-stand-in-'));
  try {
    const root = join(work, 'rootfs');
    await readToolOutput('debootstrap', ['--variant=minbase', 'bookworm', root, DEBIAN_MIRROR], {
      timeoutMs: BUILD_TIMEOUT_MS,
    });
    await rm(join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
    await mkdir(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
    // Node.js: the binary this very test runs on, which npm ci took from the registry's `node` package.
    await cp(process.execPath, join(root, 'usr/local/bin/node'));
    const npmDir = join(root, 'usr/local/lib/node_modules/npm');
    await mkdir(npmDir, { recursive: true });
    const tarball = (
      await readToolOutput('npm', ['pack', `npm@${NPM_VERSION}`, '--silent', '--pack-destination', work], {
        timeoutMs: 120_000,
      })
    )
      .trim()
      .split('\n')
      .at(-1)!;
    await readToolOutput('tar', ['-xzf', join(work, tarball), '-C', npmDir, '--strip-components=1']);
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
    await cp(HOST_CA_BUNDLE, join(root, STAND_IN_CA_BUNDLE));
    const archive = join(work, 'rootfs.tar');
    await readToolOutput('tar', ['-C', root, '-cf', archive, '.'], { timeoutMs: 120_000 });
    await readPodman(
      [
        'import',
        '--change',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--change',
        `ENV NODE_EXTRA_CA_CERTS=${STAND_IN_CA_BUNDLE}`,
        '--change',
        `LABEL ${STAND_IN_LABEL}="${wanted}"`,
        '--change',
        'CMD ["node"]',
        archive,
        BASE_IMAGE,
      ],
      { timeoutMs: BUILD_TIMEOUT_MS },
    );
    return true;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The files a clone would hold (tracked, and new ones git does not ignore), with the build context's
 * .dockerignore: never node_modules, dist or anything else a working tree collects.
 */
async function copyCleanCheckout(into: string): Promise<void> {
  const listed = await readToolOutput('git', [
    '-C',
    REPO,
    'ls-files',
    '-z',
    '--cached',
    '--others',
    '--exclude-standard',
  ]);
  for (const file of listed.split('\0').filter((name) => name !== '')) {
    const source = join(REPO, file);
    // A file deleted in the working tree but not yet in the index is not part of a clean checkout either.
    if (
      !(await access(source).then(
        () => true,
        () => false,
      ))
    )
      continue;
    await mkdir(join(into, file, '..'), { recursive: true });
    await cp(source, join(into, file));
  }
}

export interface BuiltImage {
  readonly buildMs: number;
  readonly sizeBytes: number;
}

/** `podman build` of the Dockerfile as it is, from a clean copy, against the stand-in only (--pull=never). */
export async function buildImage(): Promise<BuiltImage> {
  const context = await mkdtemp(join(tmpdir(), 'ee-image-context-'));
  try {
    await copyCleanCheckout(context);
    const started = performance.now();
    // Host networking: the build's apt-get and npm ci need the network, and podman's own needs CNI plugins.
    await readPodman(['build', '--pull=never', '--format', 'docker', '--network=host', '-t', IMAGE, context], {
      timeoutMs: BUILD_TIMEOUT_MS,
    });
    const buildMs = performance.now() - started;
    const sizeBytes = Number((await readPodman(['image', 'inspect', '--format', '{{.Size}}', IMAGE])).trim());
    return { buildMs, sizeBytes };
  } finally {
    await rm(context, { recursive: true, force: true });
  }
}
