/**
 * The seeded OpenStack lab (test/openstack/lab.sh) as tests see it: the facts seed.json records, and
 * credentials written the ways operators write them (clouds.yaml, OS_* variables).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CloudCredentials } from '../../src/openstack/credentials/cloud-credentials.ts';
import { loadCloudCredentials } from '../../src/openstack/credentials/clouds-config.ts';
import type { Environment } from '../../src/openstack/credentials/os-environment.ts';
import { readOptionalYamlFile } from '../../src/config/load.ts';
import type { OpenStackConfig } from '../../src/config/schema.ts';

export const LAB_STATE = process.env['EXPOSURE_OSLAB_STATE'] ?? '/var/lib/exposure-exporter-oslab';

export interface SeedServer {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly project: string;
  readonly project_id: string;
  readonly user: string;
  readonly user_id: string;
  readonly addresses: readonly { addr: string; type: string; network: string }[];
}

export interface Seed {
  readonly auth_url: string;
  readonly region: string;
  readonly admin: { username: string; password: string; project: string; project_id: string; user_id: string };
  readonly projects: Readonly<Record<string, { id: string; name: string }>>;
  readonly users: Readonly<
    Record<
      string,
      {
        id: string;
        name: string;
        password: string;
        role: string;
        project: string;
        project_id: string;
        email: string | null;
      }
    >
  >;
  readonly servers: Readonly<Record<string, SeedServer>>;
  readonly floating_ips: Readonly<
    Record<
      string,
      { address: string; project: string; project_id: string; server: string | null; device_id: string | null }
    >
  >;
  readonly routers: Readonly<
    Record<string, { id: string; project: string; project_id: string; gateway_ips: string[] }>
  >;
  readonly provider_addresses: Readonly<Record<string, string[]>>;
  /** The seed's groups by name (a project's default group as `<project>-default`), every rule included. */
  readonly security_groups: Readonly<Record<string, SeedSecurityGroup>>;
  /** Each server's one port. */
  readonly ports: Readonly<
    Record<string, { id: string; port_security_enabled: boolean; security_groups: string[]; fixed_ips: string[] }>
  >;
  /**
   * `full`: no access rules; `read_only`: access rules limited to the GETs the exporter makes;
   * `no_security_groups`: those rules without the two security group listings, as made before the exporter read them.
   */
  readonly application_credentials: Readonly<
    Record<'full' | 'read_only' | 'no_security_groups', { id: string; name: string; secret: string }>
  >;
}

export interface SeedSecurityGroup {
  readonly id: string;
  readonly name: string;
  readonly project: string;
  readonly rules: readonly {
    id: string;
    direction: string;
    ethertype: string;
    protocol: string | null;
    port_range_min: number | null;
    port_range_max: number | null;
    remote_ip_prefix: string | null;
    remote_group_id: string | null;
  }[];
}

export async function readSeed(): Promise<Seed> {
  const path = join(LAB_STATE, 'seed.json');
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Seed;
  } catch (err) {
    throw new Error(
      `no seeded OpenStack lab (${path}: ${(err as Error).message}); run make openstack-up openstack-seed`,
    );
  }
}

export const OPENSTACK_DEFAULTS: OpenStackConfig = {
  cloud: undefined,
  cloudsFile: undefined,
  regionName: undefined,
  interface: undefined,
  refreshIntervalMs: 600_000,
  requestTimeoutMs: 30_000,
};

/** A clouds.yaml with one cloud per way of authenticating, as an operator would write it. */
export function renderCloudsYaml(seed: Seed): string {
  const plain = seed.application_credentials.full;
  const restricted = seed.application_credentials.read_only;
  const withoutGroups = seed.application_credentials.no_security_groups;
  const rita = seed.users['rita'];
  return `clouds:
  lab-admin:
    auth:
      auth_url: ${seed.auth_url}
      username: ${seed.admin.username}
      password: ${seed.admin.password}
      project_name: ${seed.admin.project}
      user_domain_name: Default
      project_domain_name: Default
    region_name: ${seed.region}
    interface: public
  lab-appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: ${seed.auth_url}
      application_credential_id: ${plain.id}
      application_credential_secret: ${plain.secret}
    region_name: ${seed.region}
  lab-appcred-restricted:
    auth_type: v3applicationcredential
    auth:
      auth_url: ${seed.auth_url}
      application_credential_name: ${restricted.name}
      username: ${seed.admin.username}
      user_domain_name: Default
      application_credential_secret: ${restricted.secret}
    region_name: ${seed.region}
  lab-appcred-no-secgroups:
    auth_type: v3applicationcredential
    auth:
      auth_url: ${seed.auth_url}
      application_credential_id: ${withoutGroups.id}
      application_credential_secret: ${withoutGroups.secret}
    region_name: ${seed.region}
  lab-observer:
    auth:
      auth_url: ${seed.auth_url}
      username: otto
      password: ${seed.users['otto']?.password}
      project_name: ${seed.users['otto']?.project}
      user_domain_name: Default
      project_domain_name: Default
    region_name: ${seed.region}
  lab-reader:
    auth:
      auth_url: ${seed.auth_url}
      username: rita
      password: ${rita?.password}
      project_name: ${rita?.project}
      user_domain_name: Default
      project_domain_name: Default
    region_name: ${seed.region}
`;
}

/** Writes clouds.yaml into dir and resolves one of its clouds through the exporter's own loader. */
export async function credentialsFor(seed: Seed, dir: string, cloud: string): Promise<CloudCredentials> {
  const path = join(dir, 'clouds.yaml');
  await writeFile(path, renderCloudsYaml(seed));
  return loadCredentials({ ...OPENSTACK_DEFAULTS, cloud, cloudsFile: path }, {}, dir);
}

/** Credentials as the exporter resolves them at start, with dir as home and working directory. */
export function loadCredentials(openstack: OpenStackConfig, env: Environment, dir: string): Promise<CloudCredentials> {
  return loadCloudCredentials({ openstack, env, homeDir: dir, cwd: dir, readYamlFile: readOptionalYamlFile });
}

/**
 * An exporter config for the lab: the floating (127.42.0.0/24) and provider (127.43.0.0/24) ranges as
 * targets, so nmap stays on loopback while the inventory names the owners; only the given ports.
 */
export function renderLabExporterConfig(options: {
  readonly dir: string;
  readonly ports: readonly number[];
  readonly interval: string;
  readonly timeout: string;
  readonly refreshInterval: string;
  readonly requestTimeout: string;
  /** The clouds.yaml entry; lab-admin unless given. */
  readonly cloud?: string;
}): string {
  return `scan:
  targets: ["127.42.0.0/24", "127.43.0.0/24"]
  ports: "${options.ports.join(',')}"
  interval: ${options.interval}
  timeout: ${options.timeout}
openstack:
  cloud: ${options.cloud ?? 'lab-admin'}
  clouds_file: ${JSON.stringify(join(options.dir, 'clouds.yaml'))}
  refresh_interval: ${options.refreshInterval}
  request_timeout: ${options.requestTimeout}
state:
  path: ${JSON.stringify(join(options.dir, 'state.json'))}
`;
}
