/**
 * deploy/compose checked without Docker: compose.yaml parsed as Compose reads it, every file it mounts found
 * in the repository through its mounts, and the configs the containers would read checked by the real
 * tools (promtool, amtool) and by the exporter's own config parser, on the files the mounts provide.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load.ts';
import { runTool } from '../support/run-tool.ts';

const REPO = new URL('../../', import.meta.url).pathname;
const COMPOSE_DIR = join(REPO, 'deploy', 'compose');
const COMPOSE_FILE = join(COMPOSE_DIR, 'compose.yaml');
const RULES_FILE = join(REPO, 'alerts', 'exposure-rules.yml');
const SHIPPED_ALERTMANAGER = join(REPO, 'alerts', 'alertmanager.yml');
const TEMPLATES_DIR = join(REPO, 'alerts', 'templates');
const DASHBOARD_PROVIDER = join(REPO, 'grafana', 'provisioning', 'dashboards', 'exposure-exporter.yml');
const SHIPPED_DATASOURCE = join(REPO, 'grafana', 'provisioning', 'datasources', 'prometheus.yml');
const DASHBOARDS_DIR = join(REPO, 'grafana', 'dashboards');

/** The image each service runs, pinned to its current major (Alertmanager has no 1.0 yet). */
const IMAGES: Readonly<Record<string, string>> = {
  prometheus: 'prom/prometheus:v3',
  alertmanager: 'prom/alertmanager:v0',
  mailpit: 'axllent/mailpit:v1',
  grafana: 'grafana/grafana:13',
};

/** What each service publishes, as container port: the UI or API a person opens. */
const PUBLISHED: Readonly<Record<string, number>> = {
  'exposure-exporter': 9869,
  prometheus: 9090,
  alertmanager: 9093,
  mailpit: 8025,
  grafana: 3000,
};

interface LongPort {
  host_ip?: string;
  published?: string | number;
  target: number;
}

interface LongVolume {
  type: string;
  source?: string;
  target: string;
  read_only?: boolean;
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  cap_add?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  ports?: (string | LongPort)[];
  volumes?: (string | LongVolume)[];
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

interface Mount {
  /** An absolute host path for a bind mount, the volume's name for a named volume. */
  readonly source: string;
  readonly target: string;
  readonly bind: boolean;
}

interface PrometheusConfig {
  global?: { scrape_interval?: string };
  rule_files?: string[];
  alerting?: { alertmanagers?: { static_configs?: { targets: string[] }[] }[] };
  scrape_configs?: { job_name: string; static_configs?: { targets: string[] }[] }[];
}

interface AlertmanagerConfig {
  global?: Record<string, unknown>;
  templates?: string[];
  route?: unknown;
  inhibit_rules?: unknown;
  receivers: ({ name: string } & Record<string, unknown>)[];
}

interface DatasourceFile {
  datasources: Record<string, unknown>[];
}

/** Compose's short (`SRC:DST[:MODE]`) and long volume syntax; relative sources are relative to compose.yaml. */
function parseMount(spec: string | LongVolume): Mount {
  if (typeof spec !== 'string') {
    const bind = spec.type === 'bind';
    return { source: bind ? resolve(COMPOSE_DIR, spec.source ?? '') : (spec.source ?? ''), target: spec.target, bind };
  }
  const [source = '', target = ''] = spec.split(':');
  // Compose reads a source as a host path when it looks like one; anything else names a volume.
  const bind = /^[./~]/.test(source);
  return { source: bind ? resolve(COMPOSE_DIR, source) : source, target, bind };
}

function mountsOf(service: Service): Mount[] {
  return (service.volumes ?? []).map(parseMount);
}

/**
 * The host path a container would find at `containerPath`, through the service's bind mounts: the deepest
 * mount that covers it wins, as it does in the container. Undefined when no bind mount provides the path.
 */
function hostPathOf(service: Service, containerPath: string): string | undefined {
  const covering = mountsOf(service)
    .filter((mount) => mount.bind && (containerPath === mount.target || containerPath.startsWith(`${mount.target}/`)))
    .sort((a, b) => b.target.length - a.target.length);
  const mount = covering[0];
  return mount && join(mount.source, posix.relative(mount.target, containerPath));
}

/** Like hostPathOf, for a path the test cannot do without. */
function requireHostPath(service: Service, containerPath: string): string {
  const path = hostPathOf(service, containerPath);
  assert.ok(path, `a bind mount provides ${containerPath}`);
  return path;
}

/** The value of `--name=value` in a service's command. */
function flagValue(service: Service, name: string): string | undefined {
  const prefix = `--${name}=`;
  return service.command?.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

async function readYaml<T>(path: string): Promise<T> {
  return parse(await readFile(path, 'utf8')) as T;
}

/** The container port and host address of a published port, in either syntax. */
function parsePort(spec: string | LongPort): { hostIp: string | undefined; target: number } {
  if (typeof spec !== 'string') return { hostIp: spec.host_ip, target: spec.target };
  const parts = spec.split(':');
  const hostIp = parts.length === 3 ? parts[0] : undefined;
  return { hostIp, target: Number(parts.at(-1)?.split('/')[0]) };
}

/** Relative paths for messages, so a failure reads like the repository's layout. */
function fromRepo(path: string): string {
  return relative(REPO, path);
}

describe('docker compose stack (deploy/compose), without Docker', () => {
  let compose: ComposeFile;
  let tempDir: string;

  function service(name: string): Service {
    const found = compose.services[name];
    assert.ok(found, `service ${name} exists`);
    return found;
  }

  before(async () => {
    compose = await readYaml<ComposeFile>(COMPOSE_FILE);
    tempDir = await mkdtemp(join(tmpdir(), 'ee-compose-'));
  });

  after(async () => {
    await rm(tempDir, { recursive: true, force: true });
  });

  it('has the five services, each from its pinned image, the exporter built from the repository', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), [
      'alertmanager',
      'exposure-exporter',
      'grafana',
      'mailpit',
      'prometheus',
    ]);
    for (const [name, image] of Object.entries(IMAGES)) assert.equal(service(name).image, image, `${name} image`);
    const exporter = service('exposure-exporter');
    assert.ok(exporter.build, 'the exporter is built, not pulled');
    assert.equal(resolve(COMPOSE_DIR, exporter.build.context), resolve(REPO), 'built from the repository root');
    assert.equal(exporter.build.dockerfile, 'Dockerfile');
  });

  it('builds with a Dockerfile that exists at the repository root', () => {
    const exporter = service('exposure-exporter');
    const dockerfile = join(resolve(COMPOSE_DIR, exporter.build?.context ?? ''), exporter.build?.dockerfile ?? '');
    assert.ok(existsSync(dockerfile), `${fromRepo(dockerfile)} exists`);
  });

  it('mounts only host paths that exist in the repository, and declares every named volume', () => {
    const declared = Object.keys(compose.volumes ?? {});
    let binds = 0;
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const mount of mountsOf(svc)) {
        if (mount.bind) {
          binds += 1;
          assert.ok(existsSync(mount.source), `${name}: ${fromRepo(mount.source)} (for ${mount.target}) exists`);
          assert.ok(
            !relative(REPO, mount.source).startsWith('..'),
            `${name}: ${mount.source} is inside the repository`,
          );
        } else {
          assert.ok(declared.includes(mount.source), `${name}: volume ${mount.source} is declared`);
        }
      }
    }
    assert.equal(binds, 8, 'every bind mount was looked at');
  });

  it('lets the exporter send raw packets (NET_RAW) and drops every other capability', () => {
    const exporter = service('exposure-exporter');
    assert.deepEqual(exporter.cap_add, ['NET_RAW']);
    assert.deepEqual(exporter.cap_drop, ['ALL']);
    // no-new-privileges would stop nmap's file capability from taking effect at exec.
    assert.ok(
      !(exporter.security_opt ?? []).some((opt) => opt.startsWith('no-new-privileges')),
      'no-new-privileges is off',
    );
  });

  it('publishes each UI or API on 127.0.0.1 only', () => {
    const published: Record<string, number[]> = {};
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const port of (svc.ports ?? []).map(parsePort)) {
        assert.equal(port.hostIp, '127.0.0.1', `${name} publishes ${port.target} on loopback only`);
        published[name] = [...(published[name] ?? []), port.target];
      }
    }
    assert.deepEqual(published, Object.fromEntries(Object.entries(PUBLISHED).map(([name, port]) => [name, [port]])));
  });

  it("gives the exporter a valid config at the image's path, with its state on the named volume", async () => {
    const exporter = service('exposure-exporter');
    const configPath = requireHostPath(exporter, '/etc/exposure-exporter/config.yml');
    const config = parseConfigText(await readFile(configPath, 'utf8'), configPath);
    // The image's nmap has cap_net_raw by setcap, which only an explicit syn puts to use (see the config).
    assert.equal(config.scan.scanType, 'syn');
    assert.equal(config.scan.nmapPath, '/usr/bin/nmap');
    assert.equal(config.statePath, '/var/lib/exposure-exporter/state.json');
    const stateMount = mountsOf(exporter).find((mount) => mount.target === dirname(config.statePath));
    assert.deepEqual(stateMount, { source: 'exposure-state', target: '/var/lib/exposure-exporter', bind: false });
  });

  it('has Prometheus scrape job exposure-exporter at exposure-exporter:9869, send to Alertmanager, and load the shipped rules through their mount', async () => {
    const prometheus = service('prometheus');
    const config = await readYaml<PrometheusConfig>(
      requireHostPath(prometheus, flagValue(prometheus, 'config.file') ?? ''),
    );
    assert.deepEqual(
      (config.scrape_configs ?? []).map((job) => [job.job_name, job.static_configs?.flatMap((sc) => sc.targets)]),
      [['exposure-exporter', [`exposure-exporter:${PUBLISHED['exposure-exporter']}`]]],
    );
    assert.deepEqual(
      config.alerting?.alertmanagers?.flatMap((am) => am.static_configs?.flatMap((sc) => sc.targets)),
      ['alertmanager:9093'],
    );
    assert.deepEqual(config.rule_files, ['/etc/prometheus/rules/exposure-rules.yml']);
    assert.deepEqual(
      config.rule_files.map((path) => hostPathOf(prometheus, path)),
      [RULES_FILE],
    );
  });

  it('promtool check config accepts the Prometheus config and the rules its mount provides', async () => {
    const prometheus = service('prometheus');
    const config = await readYaml<PrometheusConfig>(
      requireHostPath(prometheus, flagValue(prometheus, 'config.file') ?? ''),
    );
    // /etc/prometheus does not exist here: point rule_files where the mounts say the container finds them.
    config.rule_files = (config.rule_files ?? []).map((path) => requireHostPath(prometheus, path));
    const copy = join(tempDir, 'prometheus.yml');
    await writeFile(copy, stringify(config));
    const { code, stdout, stderr } = await runTool('promtool', ['check', 'config', copy]);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /SUCCESS: 1 rule files found/);
    assert.ok(stdout.includes(`Checking ${RULES_FILE}\n  SUCCESS: 15 rules found`), stdout);
  });

  it('has Alertmanager keep the shipped routes and inhibition, and mail every receiver to Mailpit', async () => {
    const alertmanager = service('alertmanager');
    const config = await readYaml<AlertmanagerConfig>(
      requireHostPath(alertmanager, flagValue(alertmanager, 'config.file') ?? ''),
    );
    const shipped = await readYaml<AlertmanagerConfig>(SHIPPED_ALERTMANAGER);
    assert.deepEqual(config.route, shipped.route, 'the routes are the shipped ones');
    assert.deepEqual(config.inhibit_rules, shipped.inhibit_rules, 'the inhibition is the shipped one');
    assert.deepEqual(config.templates, shipped.templates, 'the templates are found as the shipped config finds them');
    assert.deepEqual(
      config.receivers.map((r) => r.name),
      shipped.receivers.map((r) => r.name),
    );
    for (const receiver of config.receivers) {
      assert.deepEqual(Object.keys(receiver).sort(), ['email_configs', 'name'], `${receiver.name} only mails`);
    }
    assert.equal(config.global?.['smtp_smarthost'], 'mailpit:1025', "Mailpit's SMTP port in the compose network");
    assert.equal(config.global?.['smtp_require_tls'], false, 'Mailpit offers no TLS');
    assert.ok(compose.services['mailpit'], 'the smarthost is a service of the stack');
  });

  it('amtool check-config accepts the Alertmanager config with the shipped templates its mount provides', async () => {
    const alertmanager = service('alertmanager');
    const configTarget = flagValue(alertmanager, 'config.file') ?? '';
    const config = await readYaml<AlertmanagerConfig>(requireHostPath(alertmanager, configTarget));
    // Alertmanager reads relative template globs from the config file's directory in the container.
    config.templates = (config.templates ?? []).map((glob) => {
      const inContainer = posix.join(posix.dirname(configTarget), glob);
      return join(requireHostPath(alertmanager, posix.dirname(inContainer)), posix.basename(inContainer));
    });
    assert.deepEqual(config.templates, [join(TEMPLATES_DIR, '*.tmpl')], 'the shipped templates');
    const copy = join(tempDir, 'alertmanager.yml');
    await writeFile(copy, stringify(config));
    const { code, stdout, stderr } = await runTool('amtool', ['check-config', copy]);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, / - 4 receivers\n - 1 templates\n {2}SUCCESS/);
  });

  it('provisions Grafana with the shipped dashboard provider, its dashboards where it reads them, and the prometheus service', async () => {
    const grafana = service('grafana');
    const providerTarget = '/etc/grafana/provisioning/dashboards/exposure-exporter.yml';
    assert.equal(hostPathOf(grafana, providerTarget), DASHBOARD_PROVIDER);
    const provider = await readYaml<{ providers: { options: { path: string } }[] }>(DASHBOARD_PROVIDER);
    const dashboardsTarget = provider.providers[0]?.options.path ?? '';
    assert.equal(
      hostPathOf(grafana, dashboardsTarget),
      DASHBOARDS_DIR,
      'the dashboards are where the provider reads them',
    );
    const home = grafana.environment?.['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH'] ?? '';
    assert.equal(
      hostPathOf(grafana, home),
      join(DASHBOARDS_DIR, 'exposure-overview.json'),
      'the home dashboard is the overview',
    );
  });

  it("gives Grafana the shipped datasource pointed at the prometheus service, with Prometheus's scrape interval", async () => {
    const grafana = service('grafana');
    const datasources = mountsOf(grafana).filter((mount) =>
      mount.target.startsWith('/etc/grafana/provisioning/datasources/'),
    );
    assert.equal(datasources.length, 1);
    const file = await readYaml<DatasourceFile>(datasources[0]?.source ?? '');
    const shipped = await readYaml<DatasourceFile>(SHIPPED_DATASOURCE);
    const prometheus = service('prometheus');
    const prometheusConfig = await readYaml<PrometheusConfig>(
      requireHostPath(prometheus, flagValue(prometheus, 'config.file') ?? ''),
    );
    assert.equal(file.datasources.length, 1);
    // The compose stack has this one datasource, so it is the default; otherwise the shipped one, moved.
    assert.deepEqual(file.datasources[0], {
      ...shipped.datasources[0],
      url: `http://prometheus:${PUBLISHED['prometheus']}`,
      isDefault: true,
      jsonData: {
        ...(shipped.datasources[0]?.['jsonData'] as object),
        timeInterval: prometheusConfig.global?.scrape_interval,
      },
    });
  });
});
