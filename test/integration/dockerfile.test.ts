/**
 * The container image, checked without a Docker engine (CI has none). The Dockerfile is parsed and its
 * promises pinned; then its steps are replayed on a clean copy of the repository: the build context is the
 * checkout filtered by .dockerignore, every COPY and every `npm ci` / `npm run` of both stages runs in a temp
 * root, and the runtime stage's ENTRYPOINT, CMD and HEALTHCHECK run from there, as does a SYN scan as the
 * image's uid through a copy of nmap given the Dockerfile's own setcap capability. The other system steps
 * (apt-get, useradd) need an image's root file system; their text is asserted instead.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DockerfileParser } from 'dockerfile-ast';
import type { Copy, Env, From, Instruction, JSONInstruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import ts from 'typescript';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { findFreePort } from '../support/free-port.ts';
import { readToolOutput, runTool } from '../support/run-tool.ts';
import type { ToolResult } from '../support/run-tool.ts';
import { openTcpListener } from '../support/tcp-listener.ts';

const REPO = new URL('../../', import.meta.url).pathname;

interface PackageJson {
  readonly version: string;
  readonly bin: Record<string, string>;
  readonly engines: { node: string };
  readonly scripts: Record<string, string>;
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
}

interface Stage {
  readonly name: string;
  readonly from: From;
  readonly instructions: readonly Instruction[];
}

describe('Dockerfile', () => {
  let text = '';
  let stages: Stage[] = [];
  let pkg: PackageJson;
  let ignore: IgnoreRule[] = [];
  let checkout: string[] = [];

  before(async () => {
    text = await readFile(join(REPO, 'Dockerfile'), 'utf8');
    stages = readStages(text);
    pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as PackageJson;
    ignore = parseDockerignore(await readFile(join(REPO, '.dockerignore'), 'utf8'));
    checkout = await listCheckoutFiles(REPO);
  });

  it('has no syntax problems according to dockerfile-utils', () => {
    assert.deepEqual(validate(text), []);
  });

  it('builds in a build stage and runs from a runtime stage, both FROM the slim Debian image of the Node.js major package.json pins', () => {
    const major = majorOf(pkg.engines.node);
    // The image's Node runs the exporter; it must be the one the tests run on and the devDependency carries.
    assert.equal(majorOf(pkg.devDependencies['node'] ?? ''), major);
    assert.equal(majorOf(process.versions.node), major);
    assert.deepEqual(
      stages.map((stage) => [stage.name, stage.from.getImageName(), stage.from.getImageTag()]),
      [
        ['build', 'node', `${major}-bookworm-slim`],
        ['runtime', 'node', `${major}-bookworm-slim`],
      ],
    );
  });

  it('installs dev dependencies and builds only in the build stage; the runtime installs production dependencies only', () => {
    const build = npmCommands(stageNamed(stages, 'build'));
    const runtime = npmCommands(stageNamed(stages, 'runtime'));
    assert.deepEqual(build, [
      ['npm', 'ci', '--no-audit', '--no-fund'],
      ['npm', 'run', 'build'],
    ]);
    assert.deepEqual(runtime, [
      ['npm', 'ci', '--omit=dev', '--no-audit', '--no-fund'],
      ['npm', 'cache', 'clean', '--force'],
    ]);
  });

  it('installs Debian nmap, gives it CAP_NET_RAW, then drops libcap2-bin and the apt lists', () => {
    const commands = runCommands(stageNamed(stages, 'runtime')).map((command) => command.join(' '));
    const at = (command: string): number => {
      const index = commands.indexOf(command);
      assert.notEqual(index, -1, `the runtime stage runs: ${command}`);
      return index;
    };
    const install = at('apt-get install -y --no-install-recommends nmap libcap2-bin');
    const setcap = at('setcap cap_net_raw+eip /usr/bin/nmap');
    const purge = at('apt-get purge -y --auto-remove libcap2-bin');
    const clean = at('rm -rf /var/lib/apt/lists/*');
    assert.ok(at('apt-get update') < install && install < setcap && setcap < purge && purge < clean);
  });

  it('switches to the non-root uid it creates before the ENTRYPOINT', () => {
    const runtime = stageNamed(stages, 'runtime');
    const users = runtime.instructions.filter((instruction) => instruction.getKeyword() === 'USER');
    assert.equal(users.length, 1);
    const user = users[0]?.getArgumentsContent();
    assert.equal(user, '10001:10001');
    const useradd = runCommands(runtime).find((command) => command[0] === 'useradd') ?? [];
    assert.equal(useradd[useradd.indexOf('--uid') + 1], '10001');
    assert.ok(
      lineOf(users[0]) < lineOf(runtime.instructions.find((instruction) => instruction.getKeyword() === 'ENTRYPOINT')),
    );
  });

  it('exposes the default listen port and health-checks /-/healthy on it', () => {
    const runtime = stageNamed(stages, 'runtime');
    assert.deepEqual(argumentsOf(runtime, 'EXPOSE'), [['9869']]);
    assert.deepEqual(healthcheckCommand(runtime), [
      'node',
      '-e',
      "fetch('http://127.0.0.1:9869/-/healthy').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))",
    ]);
  });

  it('enters through the CLI that package.json names with the shipped config path, so flags given to `run` keep it', () => {
    const runtime = stageNamed(stages, 'runtime');
    assert.deepEqual(jsonArguments(runtime, 'ENTRYPOINT'), [
      'node',
      posix.join(workdirOf(runtime), pkg.bin['exposure-exporter'] ?? ''),
      '--config.file=/etc/exposure-exporter/config.yml',
    ]);
    assert.deepEqual(jsonArguments(runtime, 'CMD', { empty: true }), [], 'CMD is empty: no base image CMD leaks in');
    const copies = copyInstructions(runtime).map((copy) => copy.destination);
    assert.ok(copies.includes('/etc/exposure-exporter/config.yml'), 'a COPY puts a config where the ENTRYPOINT points');
  });

  it('keeps the state on the VOLUME: the shipped config writes its state file there', async () => {
    const config = parseYaml(await readFile(join(REPO, 'deploy/docker/config.yml'), 'utf8')) as {
      state: { path: string };
    };
    assert.deepEqual(argumentsOf(stageNamed(stages, 'runtime'), 'VOLUME'), [[posix.dirname(config.state.path)]]);
  });

  it('copies from the build context only files of the checkout that .dockerignore lets in', () => {
    const sources = stages
      .flatMap((stage) => copyInstructions(stage).filter((copy) => copy.from === undefined))
      .flatMap((copy) => copy.sources);
    assert.deepEqual(sources, [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'scripts/write-build-info.mjs',
      'src/',
      'package.json',
      'package-lock.json',
      'deploy/docker/config.yml',
    ]);
    for (const source of sources) {
      const files = filesUnder(checkout, source);
      assert.ok(files.length > 0, `${source} is in the repository`);
      for (const file of files)
        assert.ok(isIncluded(ignore, file), `.dockerignore lets ${file} into the build context`);
    }
  });

  it('copies from the build stage only what `npm run build` writes: the outDir of tsconfig.json', async () => {
    const build = stageNamed(stages, 'build');
    const fromBuild = copyInstructions(stageNamed(stages, 'runtime')).filter((copy) => copy.from !== undefined);
    const tsconfig = JSON.parse(await readFile(join(REPO, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { outDir: string };
    };
    assert.deepEqual(
      fromBuild.map((copy) => [copy.from, copy.sources]),
      [['build', [posix.join(workdirOf(build), tsconfig.compilerOptions.outDir)]]],
    );
    assert.match(pkg.scripts['build'] ?? '', /^tsc -p tsconfig\.json\b/);
  });

  it('.dockerignore keeps node_modules, dist, .git, the tests and any credentials out of the build context', () => {
    for (const path of [
      'node_modules/yaml/package.json',
      'dist/main.js',
      '.git/HEAD',
      'test/unit/flags.test.ts',
      'clouds.yaml',
      'secure.yaml',
      'data/state.json',
      'alerts/exposure.rules.yml',
    ]) {
      assert.equal(isIncluded(ignore, path), false, `${path} stays out`);
    }
    assert.equal(isIncluded(ignore, 'src/main.ts'), true);
  });
});

describe('the image replayed on a clean copy of the repository', () => {
  let work = '';
  let roots: Map<string, string>;
  let executed: Map<string, string[][]>;
  let runtime: Stage;
  let runtimeEnv: NodeJS.ProcessEnv;
  let pkg: PackageJson;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ee-docker-'));
    const stages = readStages(await readFile(join(REPO, 'Dockerfile'), 'utf8'));
    pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as PackageJson;
    const context = await buildContext(REPO, join(work, 'context'));
    const bin = await nodeOnlyBin(join(work, 'bin'));
    roots = new Map();
    executed = new Map();
    for (const stage of stages) {
      const root = join(work, stage.name);
      const replay = await replayStage(stage, { root, context, stageRoots: roots, bin });
      roots.set(stage.name, root);
      executed.set(stage.name, replay.executed);
      if (stage.name === 'runtime') runtimeEnv = replay.env;
    }
    runtime = stageNamed(stages, 'runtime');
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('ran npm ci and the build in the build stage, and npm ci without dev dependencies in the runtime stage', () => {
    assert.deepEqual(executed.get('build'), [
      ['npm', 'ci', '--no-audit', '--no-fund'],
      ['npm', 'run', 'build'],
    ]);
    assert.deepEqual(executed.get('runtime'), [['npm', 'ci', '--omit=dev', '--no-audit', '--no-fund']]);
  });

  it('leaves no devDependency in the runtime node_modules', async () => {
    const installed = await installedPackages(join(rootOf(roots, 'runtime'), workdirOf(runtime), 'node_modules'));
    for (const name of Object.keys(pkg.dependencies)) assert.ok(installed.has(name), `${name} is installed`);
    for (const name of Object.keys(pkg.devDependencies))
      assert.equal(installed.has(name), false, `${name} is not installed`);
  });

  it('ships a dist that imports only Node.js builtins and production dependencies', async () => {
    const dist = join(rootOf(roots, 'runtime'), workdirOf(runtime), 'dist');
    const imported = await importedPackages(dist);
    assert.ok(imported.has('express'), 'the scan found the imports');
    const allowed = new Set(Object.keys(pkg.dependencies));
    // node:sqlite is one of the builtins that exist only with the node: prefix.
    const builtin = (name: string) => builtinModules.includes(name) || builtinModules.includes(`node:${name}`);
    for (const name of imported) assert.ok(allowed.has(name) || builtin(name), `dist imports ${name}`);
  });

  it('the ENTRYPOINT prints the version from the runtime files alone', async () => {
    const result = await runCommand(entrypoint(roots, runtime, ['--version']), {
      env: runtimeEnv,
      cwd: workdirIn(roots, runtime),
    });
    assert.equal(result.code, 0, result.stderr);
    // No .git in the build context: the image's honest revision is "unknown".
    assert.equal(result.stdout, `exposure-exporter ${pkg.version} (revision unknown, Node.js ${process.version})\n`);
  });

  it('the ENTRYPOINT alone accepts the shipped container config', async () => {
    const command = entrypoint(roots, runtime, ['--config.check']);
    const result = await runCommand(command, { env: runtimeEnv, cwd: workdirIn(roots, runtime) });
    assert.equal(result.code, 0, result.stderr);
    const config = join(rootOf(roots, 'runtime'), '/etc/exposure-exporter/config.yml');
    assert.match(result.stdout, new RegExp(`^${escapeRegExp(config)}: config is valid \\(1 targets`));
  });

  it('runs a SYN scan as the image user: the image config, the capability on nmap and the exporter agree', async () => {
    const [uid, gid] = (argumentsOf(runtime, 'USER')[0]?.[0] ?? '').split(':').map(Number);
    assert.ok(uid !== undefined && gid !== undefined && uid > 0, 'a numeric non-root USER');
    const nmap = await capableNmapCopy(runtime, join(work, 'nmap'));
    const shipped = parseYaml(
      await readFile(join(rootOf(roots, 'runtime'), '/etc/exposure-exporter/config.yml'), 'utf8'),
    ) as {
      scan: { nmap: Record<string, unknown> } & Record<string, unknown>;
    };
    const listener = await openTcpListener('127.0.0.1');
    try {
      const stateDir = join(work, 'image-user-state');
      await mkdir(stateDir);
      await chown(stateDir, uid, gid);
      const config = join(work, 'image-user.yml');
      // The shipped config, scanning one port of ours with the capable nmap copy, its state where the user may write.
      await writeFile(
        config,
        stringifyYaml({
          ...shipped,
          scan: { ...shipped.scan, ports: String(listener.port), nmap: { ...shipped.scan.nmap, path: nmap } },
          state: { path: join(stateDir, 'state.json') },
        }),
      );
      await chmod(work, 0o755);
      const asImageUser = ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--inh-caps=-all'];
      const result = await runCommand(
        [...asImageUser, ...entrypoint(roots, runtime, [`--config.file=${config}`, '--once'])],
        {
          env: { ...runtimeEnv, HOME: '/nonexistent' },
          cwd: workdirIn(roots, runtime),
        },
      );
      assert.equal(result.code, 0, result.stderr.slice(-2000));
      const report = JSON.parse(result.stdout) as {
        scan: { nmap: { args: string[] } };
        hosts: { ip: string; ports: { port: number }[] }[];
      };
      assert.deepEqual(report.scan.nmap.args.slice(0, 2), ['-sS', '--privileged']);
      assert.deepEqual(
        report.hosts.map((host) => [host.ip, host.ports.map((port) => port.port)]),
        [['127.0.0.1', [listener.port]]],
      );
    } finally {
      await listener.close();
    }
  });

  it('the HEALTHCHECK passes while the exporter serves and fails once it has stopped', async () => {
    const port = await findFreePort();
    // The shipped config as is, but with its state in the temp root instead of the host's /var/lib.
    const shipped = parseYaml(
      await readFile(join(rootOf(roots, 'runtime'), '/etc/exposure-exporter/config.yml'), 'utf8'),
    ) as Record<string, unknown>;
    const config = join(work, 'healthcheck.yml');
    await writeFile(config, stringifyYaml({ ...shipped, state: { path: join(work, 'state.json') } }));
    const [program, ...args] = healthcheckCommand(runtime).map((arg) =>
      arg.replace('127.0.0.1:9869/', `127.0.0.1:${port}/`),
    );
    const check = [program === 'node' ? process.execPath : (program ?? ''), ...args];
    const exporter = spawnReplayed(
      entrypoint(roots, runtime, [
        `--config.file=${config}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.format=json',
      ]),
      {
        env: runtimeEnv,
        cwd: workdirIn(roots, runtime),
      },
    );
    try {
      await waitForLog(exporter, 'listening', 20_000);
      assert.equal((await runCommand(check, { env: runtimeEnv, cwd: workdirIn(roots, runtime) })).code, 0);
    } finally {
      exporter.kill('SIGTERM');
    }
    assert.equal(await exitCode(exporter, 15_000), 0);
    assert.equal((await runCommand(check, { env: runtimeEnv, cwd: workdirIn(roots, runtime) })).code, 1);
  });
});

// --- Reading the Dockerfile --------------------------------------------------------------------------

function readStages(text: string): Stage[] {
  const stages: { name: string; from: From; instructions: Instruction[] }[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = instruction as From;
      stages.push({ name: from.getBuildStage() ?? String(stages.length), from, instructions: [] });
    } else {
      assert.ok(stages.length > 0, `${instruction.getKeyword()} before the first FROM`);
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

function stageNamed(stages: readonly Stage[], name: string): Stage {
  const stage = stages.find((candidate) => candidate.name === name);
  assert.ok(stage, `a stage named ${name}`);
  return stage;
}

function majorOf(version: string): number {
  return Number(/\d+/.exec(version)?.[0]);
}

function lineOf(instruction: Instruction | undefined): number {
  assert.ok(instruction);
  return instruction.getRange().start.line;
}

function argumentsOf(stage: Stage, keyword: string): string[][] {
  return stage.instructions
    .filter((instruction) => instruction.getKeyword() === keyword)
    .map((instruction) => instruction.getArguments().map((arg) => arg.getValue()));
}

function jsonArguments(stage: Stage, keyword: 'ENTRYPOINT' | 'CMD', options: { empty?: boolean } = {}): string[] {
  const found = stage.instructions.filter((instruction) => instruction.getKeyword() === keyword);
  // Only the last ENTRYPOINT or CMD counts, and a second one would be a mistake worth failing on.
  assert.equal(found.length, 1, `one ${keyword}`);
  const strings = (found[0] as JSONInstruction).getJSONStrings().map((value) => value.getJSONValue());
  if (options.empty) assert.equal(found[0]?.getArgumentsContent()?.trim(), '[]', `${keyword} is the empty exec form`);
  else assert.ok(strings.length > 0, `${keyword} uses the exec (JSON) form, so signals reach node`);
  return strings;
}

function healthcheckCommand(stage: Stage): string[] {
  const found = stage.instructions.filter((instruction) => instruction.getKeyword() === 'HEALTHCHECK');
  assert.equal(found.length, 1, 'one HEALTHCHECK');
  const match = /\bCMD\s+(\[.*\])\s*$/s.exec(found[0]?.getArgumentsContent() ?? '');
  assert.ok(match?.[1], 'HEALTHCHECK CMD uses the exec (JSON) form');
  return JSON.parse(match[1]) as string[];
}

function workdirOf(stage: Stage): string {
  const workdirs = argumentsOf(stage, 'WORKDIR');
  assert.ok(workdirs.length > 0, `stage ${stage.name} sets a WORKDIR`);
  return workdirs.at(-1)?.[0] ?? '/';
}

/** RUN lines in shell form, cut at `&&` into commands, without leading `NAME=value` assignments. */
function runCommands(stage: Stage): string[][] {
  return stage.instructions.filter((instruction) => instruction.getKeyword() === 'RUN').flatMap(splitRun);
}

function splitRun(instruction: Instruction): string[][] {
  const commands: string[][] = [[]];
  for (const word of instruction.getArguments().map((arg) => arg.getValue())) {
    if (word === '&&') commands.push([]);
    else commands.at(-1)?.push(word);
  }
  return commands.map((command) => command.slice(command.findIndex((word) => !/^[A-Z_][A-Z0-9_]*=/.test(word))));
}

function npmCommands(stage: Stage): string[][] {
  return runCommands(stage).filter((command) => command[0] === 'npm');
}

interface CopyStep {
  readonly from: string | undefined;
  readonly sources: string[];
  readonly destination: string;
  readonly instruction: Instruction;
}

function copyInstructions(stage: Stage): CopyStep[] {
  return stage.instructions
    .filter((instruction) => instruction.getKeyword() === 'COPY')
    .map((instruction) => {
      const values = instruction
        .getArguments()
        .map((arg) => arg.getValue())
        .filter((value) => !value.startsWith('--'));
      const destination = values.pop();
      assert.ok(
        destination && values.length > 0,
        `COPY on line ${lineOf(instruction) + 1} has sources and a destination`,
      );
      return {
        from: (instruction as Copy).getFromFlag()?.getValue() ?? undefined,
        sources: values,
        destination,
        instruction,
      };
    });
}

// --- .dockerignore -----------------------------------------------------------------------------------

interface IgnoreRule {
  readonly exclude: boolean;
  readonly pattern: RegExp;
}

/** Docker's rules: the last matching line wins, `!` re-includes, and a line matching a parent matches its files. */
function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = posix.normalize(negated ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
      return { exclude: !negated, pattern: globToRegExp(pattern) };
    });
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] ?? '';
    if (glob.startsWith('**/', i)) {
      source += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      source += '.*';
      i += 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function isIncluded(rules: readonly IgnoreRule[], path: string): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_part, index) => parts.slice(0, index + 1).join('/'));
  let included = true;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.pattern.test(candidate))) included = !rule.exclude;
  }
  return included;
}

// --- Replaying the stages ----------------------------------------------------------------------------

/** The files a fresh clone would have: tracked ones plus new ones not ignored by git (so work in progress counts). */
async function listCheckoutFiles(repo: string): Promise<string[]> {
  const stdout = await readToolOutput('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repo,
    timeoutMs: 30_000,
  });
  const files = stdout.split('\0').filter((file) => file !== '');
  // A file deleted in the work tree but still in the index is not in a clone of what gets committed.
  const present = await Promise.all(
    files.map((file) =>
      stat(join(repo, file)).then(
        () => true,
        () => false,
      ),
    ),
  );
  return files.filter((_file, index) => present[index]);
}

function filesUnder(files: readonly string[], source: string): string[] {
  const path = source.replace(/\/+$/, '');
  return files.filter((file) => file === path || file.startsWith(`${path}/`));
}

/** What `docker build .` would send: the checkout, less what .dockerignore leaves out. */
async function buildContext(repo: string, into: string): Promise<string> {
  const rules = parseDockerignore(await readFile(join(repo, '.dockerignore'), 'utf8'));
  for (const file of (await listCheckoutFiles(repo)).filter((candidate) => isIncluded(rules, candidate))) {
    await mkdir(dirname(join(into, file)), { recursive: true });
    await cp(join(repo, file), join(into, file));
  }
  return into;
}

/** A PATH entry holding only the Node.js the tests run on, standing in for the image's /usr/local/bin/node. */
async function nodeOnlyBin(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await symlink(process.execPath, join(dir, 'node'));
  return dir;
}

interface ReplayOptions {
  readonly root: string;
  readonly context: string;
  readonly stageRoots: ReadonlyMap<string, string>;
  readonly bin: string;
}

/**
 * WORKDIR, ENV and COPY are applied under `root`; of RUN, only `npm ci` and `npm run` execute (the rest needs
 * an image's root file system). Returns the npm commands run and the environment the stage ended with.
 */
async function replayStage(
  stage: Stage,
  options: ReplayOptions,
): Promise<{ executed: string[][]; env: NodeJS.ProcessEnv }> {
  let workdir = '/';
  const env = imageEnv(options.bin);
  const executed: string[][] = [];
  for (const instruction of stage.instructions) {
    const keyword = instruction.getKeyword();
    if (keyword === 'WORKDIR') {
      workdir = posix.resolve(workdir, instruction.getArgumentsContent() ?? '/');
      await mkdir(join(options.root, workdir), { recursive: true });
    } else if (keyword === 'ENV') {
      for (const property of (instruction as Env).getProperties()) env[property.getName()] = property.getValue() ?? '';
    } else if (keyword === 'COPY') {
      const [copy] = copyInstructions({ ...stage, instructions: [instruction] });
      assert.ok(copy);
      const sourceRoot = copy.from === undefined ? options.context : rootOf(options.stageRoots, copy.from);
      await replayCopy(copy, { sourceRoot, root: options.root, workdir });
    } else if (keyword === 'RUN') {
      for (const command of splitRun(instruction).filter(
        (words) => words[0] === 'npm' && (words[1] === 'ci' || words[1] === 'run'),
      )) {
        const result = await runCommand(command, { env, cwd: join(options.root, workdir), timeoutMs: 300_000 });
        assert.equal(result.code, 0, `${command.join(' ')} in stage ${stage.name}:\n${result.stderr.slice(-4000)}`);
        executed.push(command);
      }
    }
  }
  return { executed, env };
}

/** Docker's COPY: a directory source copies its contents; a destination ending in / is a directory. */
async function replayCopy(copy: CopyStep, where: { sourceRoot: string; root: string; workdir: string }): Promise<void> {
  const destination = join(where.root, posix.resolve(where.workdir, copy.destination));
  for (const source of copy.sources) {
    const from = join(where.sourceRoot, source);
    if ((await stat(from)).isDirectory()) {
      await cp(from, destination, { recursive: true });
    } else {
      const target = copy.destination.endsWith('/') ? join(destination, basename(source)) : destination;
      await mkdir(dirname(target), { recursive: true });
      await cp(from, target);
    }
  }
}

/**
 * The image starts with a clean environment; here we keep the host's (CA bundle, proxies, HOME for npm's
 * cache, the host npm's global config) but drop what `npm run` and node:test set for the test process, and
 * every node_modules/.bin, so no tool of the repository's own install can stand in for one a stage failed
 * to install.
 */
function imageEnv(bin: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !/^(npm_(?!config_(globalconfig|cafile)$)|INIT_CWD$|NODE$|NODE_(ENV|OPTIONS|TEST_CONTEXT)$)/.test(name),
    ),
  );
  const path = (process.env['PATH'] ?? '')
    .split(':')
    .filter((entry) => entry !== '' && !entry.includes('node_modules'));
  env['PATH'] = [bin, ...path].join(':');
  return env;
}

function rootOf(roots: ReadonlyMap<string, string>, stage: string): string {
  const root = roots.get(stage);
  assert.ok(root, `stage ${stage} was replayed`);
  return root;
}

function workdirIn(roots: ReadonlyMap<string, string>, stage: Stage): string {
  return join(rootOf(roots, stage.name), workdirOf(stage));
}

/** A container path, alone or as a `--flag=/path` value, moved under the replay's root. */
function inRoot(root: string, arg: string): string {
  return arg.replace(
    /^(--[\w.-]+=)?(\/.*)$/,
    (_all, flag: string | undefined, path: string) => `${flag ?? ''}${join(root, path)}`,
  );
}

/** ENTRYPOINT + args as the host runs them: `node` is the test's Node.js, container paths live under the root. */
function entrypoint(roots: ReadonlyMap<string, string>, stage: Stage, args: readonly string[]): string[] {
  const [program, ...rest] = jsonArguments(stage, 'ENTRYPOINT');
  assert.equal(program, 'node');
  return [process.execPath, ...rest.map((arg) => inRoot(rootOf(roots, stage.name), arg)), ...args];
}

// --- What the replayed runtime contains -------------------------------------------------------------

async function installedPackages(nodeModules: string): Promise<Set<string>> {
  const names = new Set<string>();
  for (const entry of await readdir(nodeModules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@'))
      for (const scoped of await readdir(join(nodeModules, entry))) names.add(`${entry}/${scoped}`);
    else names.add(entry);
  }
  return names;
}

/** Package names of every static and dynamic import of the compiled JavaScript, as TypeScript's scanner reads them. */
async function importedPackages(dist: string): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of (await readdir(dist, { recursive: true })).filter((name) => name.endsWith('.js'))) {
    const { importedFiles } = ts.preProcessFile(await readFile(join(dist, file), 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (fileName.startsWith('.') || fileName.startsWith('/')) continue;
      const bare = fileName.replace(/^node:/, '');
      names.add(bare.startsWith('@') ? bare.split('/').slice(0, 2).join('/') : (bare.split('/')[0] ?? bare));
    }
  }
  return names;
}

/** The nmap the image installs (Debian's, as here), copied and given the capability by the Dockerfile's own setcap line. */
async function capableNmapCopy(runtime: Stage, copy: string): Promise<string> {
  const [setcap, capability, imageNmap] = runCommands(runtime).find((command) => command[0] === 'setcap') ?? [];
  assert.ok(setcap && capability && imageNmap, 'the runtime stage runs setcap CAPABILITY PATH');
  await cp(imageNmap, copy);
  const granted = await runCommand([setcap, capability, copy], { env: process.env, cwd: dirname(copy) });
  assert.equal(granted.code, 0, `${setcap} (Debian's libcap2-bin) on the host: ${granted.stderr}`);
  return copy;
}

// --- Processes ---------------------------------------------------------------------------------------

function runCommand(
  command: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs?: number },
): Promise<ToolResult> {
  const [program, ...args] = command;
  assert.ok(program);
  return runTool(program, args, options);
}

function spawnReplayed(command: readonly string[], options: { env: NodeJS.ProcessEnv; cwd: string }): ChildProcess {
  const [program, ...args] = command;
  assert.ok(program);
  return spawn(program, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Resolves when the exporter logs `msg` (JSON logs on stderr); rejects on exit or after the deadline. */
function waitForLog(child: ChildProcess, msg: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(
      () => reject(new Error(`no "${msg}" log within ${timeoutMs} ms: ${buffered.slice(-2000)}`)),
      timeoutMs,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before logging "${msg}": ${buffered.slice(-2000)}`));
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.split('\n').some((line) => line.includes(`"msg":${JSON.stringify(msg)}`))) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

function exitCode(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
