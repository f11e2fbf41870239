/**
 * deploy/kubernetes checked without a cluster: every manifest validated against the Kubernetes and
 * Prometheus Operator schemas (kubernetes-models), unknown fields included, then what the schemas cannot
 * say: the shard arguments as the exporter parses them, the privileges nmap needs, the config and
 * credentials as the exporter reads them, the selectors that tie the objects together, and the
 * PrometheusRule as promtool sees it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments, stringify } from 'yaml';
import {
  PROMETHEUS_RULE_FILE,
  RULES_FILE,
  renderPrometheusRule,
} from '../../deploy/kubernetes/render-prometheusrule.ts';
import { resolveCloudCredentials } from '../../src/openstack/credentials/clouds-config.ts';
import { parseConfigText } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { parseFlags } from '../../src/flags.ts';
import { runTool } from '../support/run-tool.ts';

const K8S_DIR = new URL('../../deploy/kubernetes/', import.meta.url).pathname;
const POD_INDEX_LABEL = "metadata.labels['apps.kubernetes.io/pod-index']";

/**
 * The schema of each kind, by `apiVersion/kind`. Each model's prototype.validate runs the schema's compiled
 * validator on `this`, which lets validateManifest hand it a watched copy.
 */
const MODELS: ReadonlyMap<string, { prototype: { validate(): void } }> = new Map<
  string,
  { prototype: { validate(): void } }
>([
  ['apps/v1/StatefulSet', StatefulSet],
  ['v1/Service', Service],
  ['v1/ConfigMap', ConfigMap],
  ['v1/Secret', Secret],
  ['monitoring.coreos.com/v1/ServiceMonitor', ServiceMonitor],
  ['monitoring.coreos.com/v1/PrometheusRule', PrometheusRule],
]);

type Json = Record<string, unknown>;

interface Manifest {
  readonly file: string;
  readonly object: Json & {
    apiVersion: string;
    kind: string;
    metadata: { name: string; labels?: Record<string, string> };
  };
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

interface Probe {
  httpGet?: { path: string; port: string | number };
}

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  securityContext?: SecurityContext;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string };
  emptyDir?: object;
}

interface StatefulSetObject {
  metadata: { name: string };
  spec: {
    serviceName: string;
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: { securityContext?: SecurityContext; containers: Container[]; volumes?: Volume[] };
    };
    persistentVolumeClaimRetentionPolicy?: { whenScaled: string; whenDeleted: string };
    volumeClaimTemplates?: {
      metadata: { name: string };
      spec: { accessModes: string[]; resources: { requests: { storage: string } } };
    }[];
  };
}

interface ServiceObject {
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    clusterIP?: string;
    publishNotReadyAddresses?: boolean;
    selector: Record<string, string>;
    ports: { name: string; port: number; targetPort: string | number }[];
  };
}

interface ServiceMonitorObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    endpoints: {
      port: string;
      path?: string;
      relabelings?: { action?: string; targetLabel?: string; replacement?: string; sourceLabels?: string[] }[];
    }[];
  };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null;
}

async function listManifestFiles(): Promise<string[]> {
  return (await readdir(K8S_DIR)).filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml').sort();
}

/** Every object of every manifest file; a file may hold several documents, as kubectl allows. */
async function loadManifests(): Promise<Manifest[]> {
  const manifests: Manifest[] = [];
  for (const file of await listManifestFiles()) {
    for (const document of parseAllDocuments(await readFile(join(K8S_DIR, file), 'utf8'))) {
      assert.deepEqual(document.errors, [], `${file} is valid YAML`);
      const object: unknown = document.toJS();
      if (object !== null) manifests.push({ file, object: object as Manifest['object'] });
    }
  }
  return manifests;
}

/**
 * A view of `value` that records, per path, which properties were read. The schemas kubernetes-models ships
 * are compiled without additionalProperties: false, so by themselves they let a misspelt field
 * (`runAsNonroot`) through, which the API server's strict field validation would refuse. A compiled
 * validator reads every property its schema knows, so a property nobody read is one the schema does not know.
 */
function watchReads(value: Json, path: string, reads: Map<string, Set<string>>): Json {
  return new Proxy(value, {
    get(target, key, receiver) {
      const child: unknown = Reflect.get(target, key, receiver);
      if (typeof key !== 'string') return child;
      let seen = reads.get(path);
      if (!seen) {
        seen = new Set();
        reads.set(path, seen);
      }
      seen.add(key);
      return isObject(child) ? watchReads(child, `${path}/${key}`, reads) : child;
    },
  });
}

/** The fields of `value` that the validator never read: unknown to the schema. */
function findUnreadFields(value: unknown, path: string, reads: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => findUnreadFields(item, `${path}/${index}`, reads));
  if (!isObject(value)) return [];
  return Object.entries(value).flatMap(([key, child]) =>
    reads.get(path)?.has(key)
      ? findUnreadFields(child, `${path}/${key}`, reads)
      : [`${path}/${key} is not a field of the schema`],
  );
}

/** Schema problems of one object: the validator's errors and every field its schema does not have. */
function validateManifest(object: Manifest['object']): string[] {
  const model = MODELS.get(`${object.apiVersion}/${object.kind}`);
  if (!model) return [`no schema for ${object.apiVersion} ${object.kind}`];
  const reads = new Map<string, Set<string>>();
  const problems: string[] = [];
  try {
    model.prototype.validate.call(watchReads(object, '', reads));
  } catch (err) {
    problems.push((err as Error).message);
  }
  return [...problems, ...findUnreadFields(object, '', reads)];
}

/** Kubernetes's `$(VAR)` expansion of args from the container's plain and downward-API variables. */
function expandArgs(args: readonly string[], env: Readonly<Record<string, string>>): string[] {
  return args.map((arg) => arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole));
}

/** The values the container's variables take in a pod with these labels, as the kubelet resolves them. */
function resolveEnv(container: Container, podLabels: Readonly<Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const fieldPath = variable.valueFrom?.fieldRef?.fieldPath;
    const label = fieldPath && /^metadata\.labels\['(.+)'\]$/.exec(fieldPath)?.[1];
    const value = variable.value ?? (label ? podLabels[label] : undefined);
    if (value !== undefined) env[variable.name] = value;
  }
  return env;
}

describe('Kubernetes manifests (deploy/kubernetes), without a cluster', () => {
  let manifests: Manifest[];
  let tempDir: string;

  function find<T>(kind: string): T {
    const matches = manifests.filter((manifest) => manifest.object.kind === kind);
    assert.equal(matches.length, 1, `one ${kind}`);
    return matches[0]?.object as T;
  }

  function exporterContainer(): Container {
    const container = find<StatefulSetObject>('StatefulSet').spec.template.spec.containers[0];
    assert.ok(container, 'the StatefulSet has a container');
    return container;
  }

  /** The volume mounted at the directory of `path`, and the file name it is read under. */
  function volumeAt(path: string): { volume: Volume; key: string } {
    const statefulSet = find<StatefulSetObject>('StatefulSet');
    const mount = exporterContainer().volumeMounts?.find((m) => m.mountPath === posix.dirname(path));
    assert.ok(mount, `a volume is mounted at ${posix.dirname(path)}`);
    const volume = statefulSet.spec.template.spec.volumes?.find((v) => v.name === mount.name);
    assert.ok(volume, `volume ${mount.name} exists`);
    return { volume, key: posix.basename(path) };
  }

  /** The exporter's config as the exporter parses it, from the ConfigMap the StatefulSet mounts. */
  function exporterConfig(): Config {
    const configFile = parseFlags(expandArgs(exporterContainer().args ?? [], { POD_INDEX: '0' })).configFile;
    assert.ok(configFile, 'the args name a config file');
    const { volume, key } = volumeAt(configFile);
    const configMap = find<{ metadata: { name: string }; data: Record<string, string> }>('ConfigMap');
    assert.equal(volume.configMap?.name, configMap.metadata.name, 'the config file comes from the ConfigMap');
    const text = configMap.data[key];
    assert.ok(text, `the ConfigMap has ${key}`);
    return parseConfigText(text, `configmap.yaml ${key}`);
  }

  before(async () => {
    manifests = await loadManifests();
    tempDir = await mkdtemp(join(tmpdir(), 'ee-kubernetes-'));
  });

  after(async () => {
    await rm(tempDir, { recursive: true, force: true });
  });

  it('has one object of each kind, each valid against its Kubernetes or Prometheus Operator schema', () => {
    assert.deepEqual(
      manifests.map((m) => `${m.file}: ${m.object.kind}`),
      [
        'configmap.yaml: ConfigMap',
        'prometheusrule.yaml: PrometheusRule',
        'secret.yaml: Secret',
        'service.yaml: Service',
        'servicemonitor.yaml: ServiceMonitor',
        'statefulset.yaml: StatefulSet',
      ],
    );
    for (const manifest of manifests)
      assert.deepEqual(validateManifest(manifest.object), [], `${manifest.file} matches its schema`);
  });

  it('the schema check refuses a misspelt field, a field of the wrong type and an unknown kind', () => {
    const statefulSet = structuredClone(manifests.find((m) => m.object.kind === 'StatefulSet')?.object);
    assert.ok(statefulSet);
    const spec = statefulSet['spec'] as StatefulSetObject['spec'] & Json;
    spec.replicas = '3' as unknown as number;
    const context = spec.template.spec.securityContext as Json;
    context['runAsNonroot'] = context['runAsNonRoot'];
    delete context['runAsNonRoot'];
    const problems = validateManifest(statefulSet);
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0] ?? '', /data\/spec\/replicas must be integer/);
    assert.equal(problems[1], '/spec/template/spec/securityContext/runAsNonroot is not a field of the schema');
    assert.deepEqual(validateManifest({ ...statefulSet, kind: 'Deployment' }), ['no schema for apps/v1 Deployment']);
  });

  it('gives each replica its pod ordinal as shard index, out of as many shards as there are replicas', () => {
    const statefulSet = find<StatefulSetObject>('StatefulSet');
    const container = exporterContainer();
    const replicas = statefulSet.spec.replicas;
    assert.equal(replicas, 3);
    assert.deepEqual(container.env?.find((v) => v.name === 'POD_INDEX')?.valueFrom, {
      fieldRef: { fieldPath: POD_INDEX_LABEL },
    });
    assert.ok(container.args?.includes(`--shard=$(POD_INDEX)/${replicas}`), 'N of --shard equals spec.replicas');
    for (let ordinal = 0; ordinal < replicas; ordinal += 1) {
      // What the StatefulSet controller labels pod `exposure-exporter-<ordinal>` with.
      const podLabels = {
        ...statefulSet.spec.template.metadata.labels,
        'apps.kubernetes.io/pod-index': String(ordinal),
      };
      const flags = parseFlags(expandArgs(container.args ?? [], resolveEnv(container, podLabels)));
      assert.deepEqual(
        flags.shard,
        { index: ordinal, count: replicas },
        `pod ${ordinal} scans shard ${ordinal}/${replicas}`,
      );
    }
  });

  it("runs as the image's non-root user with a read-only root and only NET_RAW, which nmap's file capability needs", () => {
    const pod = find<StatefulSetObject>('StatefulSet').spec.template.spec;
    const container = exporterContainer();
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.runAsUser, 10001);
    assert.equal(container.securityContext?.runAsNonRoot, true);
    assert.equal(container.securityContext?.runAsUser, 10001);
    assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(container.securityContext?.capabilities, { drop: ['ALL'], add: ['NET_RAW'] });
    // no_new_privs would stop nmap from gaining its file capability at exec.
    assert.notEqual(container.securityContext?.allowPrivilegeEscalation, false);
    assert.equal(exporterConfig().scan.scanType, 'syn', 'the config puts the capability to use');
  });

  it('reads a valid config from the ConfigMap and keeps its state on a claim of its own', () => {
    const statefulSet = find<StatefulSetObject>('StatefulSet');
    const config = exporterConfig();
    const stateDir = posix.dirname(config.statePath);
    const mount = exporterContainer().volumeMounts?.find((m) => m.mountPath === stateDir);
    assert.ok(mount, `a volume is mounted at ${stateDir}`);
    const claim = statefulSet.spec.volumeClaimTemplates?.find((t) => t.metadata.name === mount.name);
    assert.ok(claim, `${mount.name} is a volumeClaimTemplate, one claim per replica`);
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
    assert.match(claim.spec.resources.requests.storage, /^\d+(Mi|Gi)$/);
    // A removed ordinal's state is a shard that no longer exists; the whole set's removal keeps them all.
    assert.deepEqual(statefulSet.spec.persistentVolumeClaimRetentionPolicy, {
      whenScaled: 'Delete',
      whenDeleted: 'Retain',
    });
  });

  it('mounts the Secret where the config reads clouds.yaml, and the exporter resolves its credentials', () => {
    const openstack = exporterConfig().openstack;
    assert.ok(openstack?.cloudsFile, 'the config names its clouds.yaml');
    const { volume, key } = volumeAt(openstack.cloudsFile);
    const secret = find<{ metadata: { name: string }; stringData: Record<string, string> }>('Secret');
    assert.equal(volume.secret?.secretName, secret.metadata.name, 'clouds.yaml comes from the Secret');
    const text = secret.stringData[key];
    assert.ok(text, `the Secret has ${key}`);
    const credentials = resolveCloudCredentials({
      openstack,
      env: {},
      homeDir: '/nonexistent',
      cwd: '/',
      files: [{ path: openstack.cloudsFile, value: parse(text) }],
    });
    assert.equal(credentials.auth.type, 'v3applicationcredential');
    assert.match(credentials.authUrl, /\.invalid[:/]/, 'a placeholder that cannot reach a real Keystone');
    assert.match(text, /CHANGE-ME/);
  });

  it('probes /-/healthy for liveness and /-/ready for readiness on the metrics port, and sets resources', () => {
    const container = exporterContainer();
    assert.deepEqual(container.livenessProbe?.httpGet, { path: '/-/healthy', port: 'metrics' });
    assert.deepEqual(container.readinessProbe?.httpGet, { path: '/-/ready', port: 'metrics' });
    assert.deepEqual(container.ports, [{ name: 'metrics', containerPort: 9869, protocol: 'TCP' }]);
    assert.ok(container.resources?.requests?.['cpu'] && container.resources.requests['memory'], 'requests set');
    assert.ok(container.resources?.limits?.['memory'], 'a memory limit set');
  });

  it('annotates the pods for a Prometheus without the Operator', () => {
    const annotations = find<StatefulSetObject>('StatefulSet').spec.template.metadata.annotations;
    assert.deepEqual(annotations, {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9869',
      'prometheus.io/path': '/metrics',
    });
  });

  it("ties the Service to the pods, and the ServiceMonitor to the Service's labels and port, with job exposure-exporter", () => {
    const statefulSet = find<StatefulSetObject>('StatefulSet');
    const service = find<ServiceObject>('Service');
    const monitor = find<ServiceMonitorObject>('ServiceMonitor');
    assert.equal(statefulSet.spec.serviceName, service.metadata.name);
    assert.equal(service.spec.clusterIP, 'None', 'headless');
    assert.equal(service.spec.publishNotReadyAddresses, true, 'a replica busy with its first cycle is still scraped');
    assert.deepEqual(service.spec.selector, statefulSet.spec.selector.matchLabels);
    assert.deepEqual(statefulSet.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'exposure-exporter' });
    for (const [label, value] of Object.entries(statefulSet.spec.selector.matchLabels)) {
      assert.equal(statefulSet.spec.template.metadata.labels[label], value, `the pods carry ${label}`);
    }
    assert.deepEqual(service.spec.ports, [{ name: 'metrics', port: 9869, targetPort: 'metrics', protocol: 'TCP' }]);
    for (const [label, value] of Object.entries(monitor.spec.selector.matchLabels)) {
      assert.equal(service.metadata.labels[label], value, `the Service carries ${label}`);
    }
    assert.deepEqual(
      monitor.spec.endpoints.map((e) => [e.port, e.path]),
      [['metrics', '/metrics']],
    );
    assert.deepEqual(monitor.spec.endpoints[0]?.relabelings, [
      { action: 'replace', targetLabel: 'job', replacement: 'exposure-exporter' },
    ]);
  });

  it('commits the PrometheusRule that render-prometheusrule.ts makes from alerts/exposure-rules.yml', async () => {
    const committed = await readFile(PROMETHEUS_RULE_FILE, 'utf8');
    assert.equal(
      committed,
      renderPrometheusRule(await readFile(RULES_FILE, 'utf8')),
      'run: npx node deploy/kubernetes/render-prometheusrule.ts',
    );
  });

  it('wraps the same groups as alerts/exposure-rules.yml, which promtool accepts as a rule file', async () => {
    const rule = find<{ spec: { groups: unknown[] } }>('PrometheusRule');
    const shipped = parse(await readFile(RULES_FILE, 'utf8')) as { groups: unknown[] };
    assert.deepEqual(rule.spec.groups, shipped.groups);
    const ruleFile = join(tempDir, 'prometheusrule-groups.yml');
    await writeFile(ruleFile, stringify({ groups: rule.spec.groups }));
    const { code, stdout, stderr } = await runTool('promtool', ['check', 'rules', ruleFile]);
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /SUCCESS: 15 rules found/);
  });

  it("lists every manifest of the directory in kustomization.yaml, and names the container's image", async () => {
    const kustomization = parse(await readFile(join(K8S_DIR, 'kustomization.yaml'), 'utf8')) as {
      kind: string;
      resources: string[];
      images?: { name: string; newName?: string; newTag?: string }[];
    };
    assert.equal(kustomization.kind, 'Kustomization');
    assert.deepEqual([...kustomization.resources].sort(), await listManifestFiles());
    assert.deepEqual(
      kustomization.images?.map((image) => image.name),
      [exporterContainer().image],
    );
  });
});
