/**
 * Finds the OpenStack credentials the way openstacksdk and os-client-config do: a `clouds.yaml` entry (with
 * `secure.yaml` merged over it) chosen by `openstack.cloud` or OS_CLOUD, or else the plain OS_* variables.
 *
 * Pure: listCloudConfigCandidates says which files to look at, the caller reads and parses the ones that exist
 * (config/load.ts, the one YAML reader), and resolveCloudCredentials validates those parsed values together with
 * the environment it is handed. Nothing here touches the file system or the process.
 *
 * Every problem names its file and key (or variable). Secrets (passwords, application credential secrets) are
 * never rendered: a message about one says what is wrong with its type or presence, never its value.
 */
import { join } from 'node:path';
import type { OpenStackConfig, OpenStackInterface } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';

/** Environment variables as the caller got them from the process. */
export type Environment = Readonly<Record<string, string | undefined>>;

export interface CandidateOptions {
  readonly openstack: OpenStackConfig;
  readonly env: Environment;
  readonly homeDir: string;
  /** Where `./clouds.yaml` is looked for. */
  readonly cwd: string;
}

/** The files to try, each list in search order; the first one that exists wins. */
export interface CloudConfigCandidates {
  readonly clouds: readonly string[];
  readonly secure: readonly string[];
}

/** A candidate file that exists, as YAML parsed it. */
export interface ParsedCloudFile {
  readonly path: string;
  readonly value: unknown;
}

export interface ResolveCredentialsOptions extends CandidateOptions {
  /** The candidates that exist, in any order; paths that are not candidates are ignored. */
  readonly files: readonly ParsedCloudFile[];
}

export type DomainRef = { readonly id: string } | { readonly name: string };
export type UserRef = { readonly id: string } | { readonly name: string; readonly domain: DomainRef };
export type ProjectRef = { readonly id: string } | { readonly name: string; readonly domain: DomainRef };
export type TokenScope = { readonly project: ProjectRef } | { readonly system: 'all' };

export interface PasswordAuth {
  /** `v3password` means the same and is reported as `password`. */
  readonly type: 'password';
  readonly user: UserRef;
  readonly password: string;
  /** A token without a scope has no catalog, so one is always required. */
  readonly scope: TokenScope;
}

export interface ApplicationCredentialAuth {
  readonly type: 'v3applicationcredential';
  /** By id, or by name, which Keystone resolves within the owning user. */
  readonly credential: { readonly id: string } | { readonly name: string; readonly user: UserRef };
  readonly secret: string;
}

export type CloudAuth = PasswordAuth | ApplicationCredentialAuth;

export type CredentialSource =
  | {
      readonly kind: 'clouds-file';
      readonly cloud: string;
      /** The clouds.yaml the entry was found in (the secure.yaml when only it has the entry). */
      readonly path: string;
      readonly securePath: string | undefined;
    }
  | { readonly kind: 'environment' };

export interface CloudCredentials {
  readonly source: CredentialSource;
  /** As written, e.g. `https://keystone.example.com:5000/v3`. */
  readonly authUrl: string;
  readonly auth: CloudAuth;
  readonly regionName: string | undefined;
  readonly interface: OpenStackInterface;
  /** False only when the cloud says `verify: false` or `insecure: true` (OS_INSECURE). */
  readonly verify: boolean;
  /** A CA bundle path (`~/` expanded); the caller reads it. */
  readonly cacert: string | undefined;
  /**
   * For each setting used (snake_case, as in clouds.yaml), where it was read: `file: key path`, an OS_*
   * variable, an `openstack.*` key of our config, or `default`. Never a value, so it can be logged.
   */
  readonly origins: Readonly<Record<string, string>>;
}

const AUTH_TYPES = ['password', 'v3password', 'v3applicationcredential'] as const;
const INTERFACES: readonly OpenStackInterface[] = ['public', 'internal', 'admin'];

/** The keys read from a cloud's `auth` mapping; each also has an OS_* variable of the same name. */
const AUTH_KEYS = [
  'auth_url',
  'username',
  'user_id',
  'password',
  'user_domain_name',
  'user_domain_id',
  'project_name',
  'project_id',
  'project_domain_name',
  'project_domain_id',
  'domain_name',
  'domain_id',
  'system_scope',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
] as const;

/** The keys read from the cloud entry itself. */
const TOP_KEYS = ['auth_type', 'region_name', 'regions', 'interface', 'verify', 'insecure', 'cacert', 'identity_api_version'] as const;

type TopKey = (typeof TOP_KEYS)[number];

/** Values rendered in messages. Everything else (secrets, and keys we do not know) is described by type only. */
const RENDERED_KEYS: ReadonlySet<string> = new Set([
  'auth_url',
  'auth_type',
  'interface',
  'verify',
  'insecure',
  'system_scope',
  'region_name',
  'identity_api_version',
  'cacert',
]);

export function listCloudConfigCandidates(options: CandidateOptions): CloudConfigCandidates {
  const dirs = [options.cwd, join(options.homeDir, '.config', 'openstack'), '/etc/openstack'];
  const searched = (name: string, override: string | undefined): string[] =>
    unique([...(override ? [override] : []), ...dirs.map((dir) => join(dir, name))]);
  // Our own setting replaces the clouds.yaml search (as openstacksdk's config_files argument does); secure.yaml
  // is still searched, so secrets can stay in a file of their own.
  const clouds = options.openstack.cloudsFile !== undefined
    ? [options.openstack.cloudsFile]
    : searched('clouds.yaml', nonEmpty(options.env['OS_CLIENT_CONFIG_FILE']));
  return { clouds, secure: searched('secure.yaml', nonEmpty(options.env['OS_CLIENT_SECURE_FILE'])) };
}

/**
 * Cloud selection: `openstack.cloud`, else OS_CLOUD, else the OS_* variables. Unlike openstacksdk, a clouds.yaml
 * with a single entry is not picked silently: which cloud the exporter reads should be visible in its config.
 */
export function resolveCloudCredentials(options: ResolveCredentialsOptions): CloudCredentials {
  const { openstack, env } = options;
  const candidates = listCloudConfigCandidates(options);
  const found = findFiles(candidates, options.files);
  if (openstack.cloudsFile !== undefined && !found.clouds) {
    throw new ConfigError('openstack.clouds_file', [`${JSON.stringify(openstack.cloudsFile)} does not exist`]);
  }
  if (openstack.cloud !== undefined) {
    return readCredentials(readNamedCloud({ name: openstack.cloud, selector: 'openstack.cloud', candidates, found }), options);
  }
  const osCloud = nonEmpty(env['OS_CLOUD']);
  if (osCloud !== undefined) {
    return readCredentials(readNamedCloud({ name: osCloud, selector: 'OS_CLOUD', candidates, found }), options);
  }
  if (hasCredentialVariables(env)) return readCredentials(readEnvironmentCloud(env), options);
  throw new ConfigError('openstack', [`no cloud selected: ${describeChoices(found)}`]);
}

// ---------------------------------------------------------------------------------------------------------------
// Where each setting comes from

/** One setting as written, with the name a user would search for and the file (or `environment`) it is in. */
interface Setting {
  readonly value: unknown;
  readonly key: string;
  readonly name: string;
  readonly origin: string;
}

/** A cloud's settings before validation. */
interface RawCloud {
  readonly source: CredentialSource;
  /** The ConfigError source: the file of the cloud entry, or `environment`. */
  readonly where: string;
  readonly top: ReadonlyMap<string, Setting>;
  readonly auth: ReadonlyMap<string, Setting>;
  /** How a key that is absent is named in a message: `clouds.x.auth.password`, or `OS_PASSWORD`. */
  readonly nameOf: (section: 'top' | 'auth', key: string) => string;
  /** The short form for the second of two alternatives: `user_id`, or `OS_USER_ID`. */
  readonly shortNameOf: (key: string) => string;
}

interface FoundFiles {
  readonly clouds: ParsedCloudFile | undefined;
  readonly secure: ParsedCloudFile | undefined;
}

function findFiles(candidates: CloudConfigCandidates, files: readonly ParsedCloudFile[]): FoundFiles {
  const first = (paths: readonly string[]): ParsedCloudFile | undefined =>
    paths.map((path) => files.find((file) => file.path === path)).find((file) => file !== undefined);
  return { clouds: first(candidates.clouds), secure: first(candidates.secure) };
}

function readNamedCloud(options: {
  name: string;
  selector: string;
  candidates: CloudConfigCandidates;
  found: FoundFiles;
}): RawCloud {
  const { name, selector, candidates, found } = options;
  const cloudsEntries = found.clouds && readCloudsMapping(found.clouds);
  const secureEntries = found.secure && readCloudsMapping(found.secure);
  if (!found.clouds && !found.secure) {
    throw new ConfigError(selector, [
      `${JSON.stringify(name)} needs a clouds.yaml, but none was found (looked for ${candidates.clouds.join(', ')})`,
    ]);
  }
  const cloudsEntry = cloudsEntries?.[name];
  const secureEntry = secureEntries?.[name];
  if (cloudsEntry === undefined && secureEntry === undefined) {
    const names = unique([...Object.keys(cloudsEntries ?? {}), ...Object.keys(secureEntries ?? {})]);
    const file = (found.clouds ?? found.secure)!.path;
    throw new ConfigError(selector, [
      `${JSON.stringify(name)} is not in ${file} (clouds: ${names.length > 0 ? names.join(', ') : 'none'})`,
    ]);
  }
  const cloudPath = childPath('clouds', name);
  // The entry lives in clouds.yaml; only when secure.yaml alone has it is that file the place to point at.
  const home = cloudsEntry !== undefined ? found.clouds! : found.secure!;
  const top = new Map<string, Setting>();
  const auth = new Map<string, Setting>();
  // secure.yaml second, so its values win: the deep merge of openstacksdk, for the two levels read here.
  for (const [file, entry] of [[found.clouds, cloudsEntry], [found.secure, secureEntry]] as const) {
    if (!file || entry === undefined) continue;
    collectEntry({ file: file.path, cloudPath, entry, top, auth });
  }
  return {
    source: { kind: 'clouds-file', cloud: name, path: home.path, securePath: secureEntry === undefined ? undefined : found.secure?.path },
    where: home.path,
    top,
    auth,
    nameOf: (section, key) => (section === 'auth' ? `${cloudPath}.auth.${key}` : `${cloudPath}.${key}`),
    shortNameOf: (key) => key,
  };
}

/** The `clouds` mapping of a parsed file; an empty file or one without `clouds` has no entries. */
function readCloudsMapping(file: ParsedCloudFile): Record<string, unknown> {
  if (file.value === null || file.value === undefined) return {};
  if (!isPlainObject(file.value)) {
    throw new ConfigError(file.path, [`must be a mapping with a clouds key, got ${describeType(file.value, false)}`]);
  }
  const clouds = file.value['clouds'];
  if (clouds === undefined || clouds === null) return {};
  if (!isPlainObject(clouds)) throw new ConfigError(file.path, [`clouds: must be a mapping, got ${describeType(clouds, false)}`]);
  return clouds;
}

function collectEntry(options: {
  file: string;
  cloudPath: string;
  entry: unknown;
  top: Map<string, Setting>;
  auth: Map<string, Setting>;
}): void {
  const { file, cloudPath, entry, top, auth } = options;
  // Types only, never values, in structure errors: secure.yaml holds the secrets.
  if (!isPlainObject(entry)) throw new ConfigError(file, [`${cloudPath}: must be a mapping, got ${describeType(entry, false)}`]);
  for (const key of TOP_KEYS) {
    if (entry[key] !== undefined) top.set(key, { value: entry[key], key, name: `${cloudPath}.${key}`, origin: file });
  }
  const authEntry = entry['auth'];
  if (authEntry === undefined || authEntry === null) return;
  if (!isPlainObject(authEntry)) {
    throw new ConfigError(file, [`${cloudPath}.auth: must be a mapping, got ${describeType(authEntry, false)}`]);
  }
  for (const key of AUTH_KEYS) {
    if (authEntry[key] !== undefined) auth.set(key, { value: authEntry[key], key, name: `${cloudPath}.auth.${key}`, origin: file });
  }
}

/** The OS_* names of the settings; OS_INSECURE is the environment's only way to say verify: false. */
function variableOf(key: string): string {
  return `OS_${key.toUpperCase()}`;
}

const ENV_TOP_KEYS: readonly TopKey[] = ['auth_type', 'region_name', 'interface', 'insecure', 'cacert', 'identity_api_version'];

function hasCredentialVariables(env: Environment): boolean {
  return [...AUTH_KEYS, 'auth_type'].some((key) => nonEmpty(env[variableOf(key)]) !== undefined);
}

function readEnvironmentCloud(env: Environment): RawCloud {
  const settings = (keys: readonly string[]): Map<string, Setting> => {
    const map = new Map<string, Setting>();
    for (const key of keys) {
      const variable = variableOf(key);
      // An exported but empty variable (`export OS_PROJECT_ID=`) means unset, as it does to the openstack CLI.
      const value = nonEmpty(env[variable]);
      if (value !== undefined) map.set(key, { value, key, name: variable, origin: 'environment' });
    }
    return map;
  };
  return {
    source: { kind: 'environment' },
    where: 'environment',
    top: settings(ENV_TOP_KEYS),
    auth: settings(AUTH_KEYS),
    nameOf: (_section, key) => variableOf(key),
    shortNameOf: variableOf,
  };
}

function describeChoices(found: FoundFiles): string {
  const file = found.clouds ?? found.secure;
  let names: string[] = [];
  try {
    names = file ? Object.keys(readCloudsMapping(file)) : [];
  } catch {
    // A broken file is reported once a cloud in it is chosen; here it only cannot offer names.
  }
  const offer = file && names.length > 0 ? ` (clouds in ${file.path}: ${names.join(', ')})` : '';
  return `set openstack.cloud or OS_CLOUD${offer}, or the OS_* variables (OS_AUTH_URL, OS_USERNAME, ...)`;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

/** Collects problems while reading, and the origin of every setting used. */
class CloudReader {
  readonly problems: string[] = [];
  readonly origins: Record<string, string> = {};
  readonly #raw: RawCloud;

  constructor(raw: RawCloud) {
    this.#raw = raw;
  }

  setting(section: 'top' | 'auth', key: string): Setting | undefined {
    return (section === 'top' ? this.#raw.top : this.#raw.auth).get(key);
  }

  has(section: 'top' | 'auth', key: string): boolean {
    return this.setting(section, key) !== undefined;
  }

  nameOf(section: 'top' | 'auth', key: string): string {
    return this.#raw.nameOf(section, key);
  }

  /** `clouds.x.auth.username or user_id`, `OS_USERNAME or OS_USER_ID`. */
  either(section: 'top' | 'auth', first: string, second: string): string {
    return `${this.nameOf(section, first)} or ${this.#raw.shortNameOf(second)}`;
  }

  shortName(key: string): string {
    return this.#raw.shortNameOf(key);
  }

  /** How the user would write a setting: `system_scope: all` in a file, `OS_SYSTEM_SCOPE=all` in the environment. */
  assignment(key: string, value: string): string {
    return this.#raw.source.kind === 'environment' ? `${variableOf(key)}=${value}` : `${key}: ${value}`;
  }

  report(message: string): undefined {
    this.problems.push(message);
    return undefined;
  }

  /** A problem with a value: names the key, and the file when it is not the cloud entry's own. */
  reportValue(setting: Setting, complaint: string): undefined {
    const elsewhere = setting.origin === this.#raw.where ? '' : ` (in ${setting.origin})`;
    return this.report(`${setting.name}: ${complaint}${elsewhere}`);
  }

  use(outputKey: string, setting: Setting): void {
    this.origins[outputKey] = setting.origin === 'environment' ? setting.name : `${setting.origin}: ${setting.name}`;
  }

  /** A non-empty string, or undefined (absent or invalid, the latter reported). Marks the setting used. */
  text(section: 'top' | 'auth', key: string): string | undefined {
    const setting = this.setting(section, key);
    if (!setting) return undefined;
    if (typeof setting.value !== 'string') {
      // YAML reads `project_id: 12345` or `password: 123456` as a number; quoting keeps leading zeros intact.
      return this.reportValue(setting, `${render(setting)} must be a string (quote it in YAML)`);
    }
    if (setting.value === '') return this.reportValue(setting, 'must not be empty');
    this.use(key, setting);
    return setting.value;
  }

  required(section: 'top' | 'auth', key: string, hint = ''): string | undefined {
    if (!this.has(section, key)) return this.report(`${this.nameOf(section, key)} is required${hint}`);
    return this.text(section, key);
  }

  boolean(section: 'top' | 'auth', key: string): boolean | undefined {
    const setting = this.setting(section, key);
    if (!setting) return undefined;
    const value = parseBoolean(setting.value);
    if (value === undefined) return this.reportValue(setting, `${render(setting)} must be true or false`);
    this.use(key, setting);
    return value;
  }
}

function readCredentials(raw: RawCloud, options: ResolveCredentialsOptions): CloudCredentials {
  const reader = new CloudReader(raw);
  checkIdentityApiVersion(reader);
  const authUrl = readAuthUrl(reader);
  const authType = readAuthType(reader);
  const auth = authType === undefined
    ? undefined
    : authType === 'v3applicationcredential' ? readApplicationCredential(reader) : readPassword(reader);
  const regionName = readRegionName(reader, options.openstack);
  const iface = readInterface(reader, options.openstack);
  const verify = readVerify(reader);
  const cacert = readCacert(reader, options.homeDir);
  if (reader.problems.length > 0 || authUrl === undefined || !auth || !iface || verify === undefined) {
    throw new ConfigError(raw.where, reader.problems);
  }
  return {
    source: raw.source,
    authUrl,
    auth,
    regionName,
    interface: iface,
    verify,
    cacert,
    origins: reader.origins,
  };
}

function checkIdentityApiVersion(reader: CloudReader): void {
  const setting = reader.setting('top', 'identity_api_version');
  if (!setting) return;
  if (setting.value === 3 || setting.value === '3') return;
  reader.reportValue(setting, `${render(setting)} is not supported (only Keystone v3 is)`);
}

function readAuthUrl(reader: CloudReader): string | undefined {
  const text = reader.required('auth', 'auth_url');
  if (text === undefined) return undefined;
  const setting = reader.setting('auth', 'auth_url')!;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return reader.reportValue(setting, `${render(setting)} is not a URL`);
  }
  // Not rendered: a URL with a password in it is the one auth_url that must not be echoed.
  if (url.username !== '' || url.password !== '') return reader.reportValue(setting, 'must not contain a user name or password');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return reader.reportValue(setting, `${render(setting)} must be an http or https URL`);
  }
  return text;
}

function readAuthType(reader: CloudReader): 'password' | 'v3applicationcredential' | undefined {
  const setting = reader.setting('top', 'auth_type');
  if (!setting) {
    reader.origins['auth_type'] = 'default';
    return 'password';
  }
  if (typeof setting.value !== 'string' || !(AUTH_TYPES as readonly string[]).includes(setting.value)) {
    return reader.reportValue(setting, `${render(setting)} is not supported (use password, v3password or v3applicationcredential)`);
  }
  reader.use('auth_type', setting);
  return setting.value === 'v3applicationcredential' ? 'v3applicationcredential' : 'password';
}

function readPassword(reader: CloudReader): PasswordAuth | undefined {
  // Without a type, openstacksdk assumes password; say how to use an application credential that is present.
  const hint = !reader.has('top', 'auth_type') && reader.has('auth', 'application_credential_secret')
    ? ` (or set ${reader.nameOf('top', 'auth_type')} to v3applicationcredential)`
    : '';
  const password = reader.required('auth', 'password', hint);
  const user = readUser(reader, '');
  const scope = readScope(reader);
  if (password === undefined || !user || !scope) return undefined;
  return { type: 'password', user, password, scope };
}

function readApplicationCredential(reader: CloudReader): ApplicationCredentialAuth | undefined {
  const secret = reader.required('auth', 'application_credential_secret');
  const id = reader.text('auth', 'application_credential_id');
  if (id !== undefined) return secret === undefined ? undefined : { type: 'v3applicationcredential', credential: { id }, secret };
  if (reader.has('auth', 'application_credential_id')) return undefined;
  const name = reader.text('auth', 'application_credential_name');
  if (name === undefined) {
    if (!reader.has('auth', 'application_credential_name')) {
      reader.report(`${reader.either('auth', 'application_credential_id', 'application_credential_name')} is required`);
    }
    return undefined;
  }
  // A name is unique only per user, so Keystone needs the user that owns the credential.
  const user = readUser(reader, ` with ${reader.shortName('application_credential_name')}`);
  if (secret === undefined || !user) return undefined;
  return { type: 'v3applicationcredential', credential: { name, user }, secret };
}

/** By id, or by name within a domain (user_domain_*, or the domain_* shorthand for both user and project). */
function readUser(reader: CloudReader, requiredWith: string): UserRef | undefined {
  const id = reader.text('auth', 'user_id');
  if (id !== undefined) return { id };
  if (reader.has('auth', 'user_id')) return undefined;
  if (!reader.has('auth', 'username')) return reader.report(`${reader.either('auth', 'username', 'user_id')} is required${requiredWith}`);
  const name = reader.text('auth', 'username');
  const domain = readDomain(reader, 'user', 'username');
  return name === undefined || !domain ? undefined : { name, domain };
}

function readScope(reader: CloudReader): TokenScope | undefined {
  const system = reader.setting('auth', 'system_scope');
  const projectKeys = ['project_id', 'project_name'].filter((key) => reader.has('auth', key));
  if (system && projectKeys.length > 0) {
    return reader.report(
      `${reader.nameOf('auth', 'system_scope')} and ${reader.shortName(projectKeys[0]!)} cannot both be set (a token has one scope)`,
    );
  }
  if (system) {
    if (system.value !== 'all') return reader.reportValue(system, `${render(system)} must be all (the only system scope Keystone has)`);
    reader.use('system_scope', system);
    return { system: 'all' };
  }
  const id = reader.text('auth', 'project_id');
  if (id !== undefined) return { project: { id } };
  if (reader.has('auth', 'project_id')) return undefined;
  if (!reader.has('auth', 'project_name')) {
    // An unscoped token comes without a service catalog, so the exporter could not find a single endpoint.
    const system = reader.assignment('system_scope', 'all');
    return reader.report(`${reader.either('auth', 'project_name', 'project_id')} is required (or ${system} for a system scope)`);
  }
  const name = reader.text('auth', 'project_name');
  const domain = readDomain(reader, 'project', 'project_name');
  return name === undefined || !domain ? undefined : { project: { name, domain } };
}

/** The id wins over the name, and the specific key over the domain_* shorthand, as in keystoneauth. */
function readDomain(reader: CloudReader, owner: 'user' | 'project', nameKey: string): DomainRef | undefined {
  const [domainIdKey, domainNameKey] = [`${owner}_domain_id`, `${owner}_domain_name`];
  for (const [key, kind] of [[domainIdKey, 'id'], [domainNameKey, 'name'], ['domain_id', 'id'], ['domain_name', 'name']] as const) {
    if (!reader.has('auth', key)) continue;
    const value = reader.text('auth', key);
    if (value === undefined) return undefined;
    if (key === 'domain_id' || key === 'domain_name') {
      // The shorthand stands for both the user's and the project's domain; record it under the key it filled.
      reader.origins[kind === 'id' ? domainIdKey : domainNameKey] = reader.origins[key]!;
      delete reader.origins[key];
    }
    return kind === 'id' ? { id: value } : { name: value };
  }
  return reader.report(`${reader.either('auth', domainNameKey, domainIdKey)} is required with ${reader.shortName(nameKey)}`);
}

function readRegionName(reader: CloudReader, openstack: OpenStackConfig): string | undefined {
  if (openstack.regionName !== undefined) {
    reader.origins['region_name'] = 'openstack.region_name';
    return openstack.regionName;
  }
  if (reader.has('top', 'region_name')) return reader.text('top', 'region_name');
  const regions = reader.setting('top', 'regions');
  if (!regions) return undefined;
  // openstacksdk takes the first of a cloud's regions when none is named.
  const first: unknown = Array.isArray(regions.value) ? regions.value[0] : undefined;
  const name = isPlainObject(first) ? first['name'] : first;
  if (typeof name !== 'string' || name === '') {
    return reader.reportValue(regions, 'must be a list of region names (or of mappings with a name)');
  }
  reader.origins['region_name'] = `${regions.origin}: ${regions.name}[0]`;
  return name;
}

/** openstack.interface in our config wins; else the cloud's own; else public, as openstacksdk does. */
function readInterface(reader: CloudReader, openstack: OpenStackConfig): OpenStackInterface | undefined {
  const setting = reader.setting('top', 'interface');
  if (openstack.interface !== undefined) {
    reader.origins['interface'] = 'openstack.interface';
    return openstack.interface;
  }
  if (!setting) {
    reader.origins['interface'] = 'default';
    return 'public';
  }
  // keystoneauth still accepts the Keystone v2 spellings publicURL, internalURL and adminURL.
  const value = typeof setting.value === 'string' ? setting.value.replace(/URL$/, '') : undefined;
  if (value === undefined || !(INTERFACES as readonly string[]).includes(value)) {
    return reader.reportValue(setting, `${render(setting)} must be one of ${INTERFACES.join(', ')}`);
  }
  reader.use('interface', setting);
  return value as OpenStackInterface;
}

function readVerify(reader: CloudReader): boolean | undefined {
  if (reader.has('top', 'verify')) {
    const verify = reader.setting('top', 'verify')!;
    if (typeof verify.value === 'string' && parseBoolean(verify.value) === undefined) {
      // requests would take a path here; openstacksdk and we want it in cacert.
      return reader.reportValue(verify, `${render(verify)} must be true or false (put a CA bundle's path in cacert)`);
    }
    return reader.boolean('top', 'verify');
  }
  if (reader.has('top', 'insecure')) {
    const insecure = reader.boolean('top', 'insecure');
    if (insecure === undefined) return undefined;
    reader.origins['verify'] = reader.origins['insecure']!;
    delete reader.origins['insecure'];
    return !insecure;
  }
  reader.origins['verify'] = 'default';
  return true;
}

function readCacert(reader: CloudReader, homeDir: string): string | undefined {
  const path = reader.text('top', 'cacert');
  if (path === undefined) return undefined;
  return path === '~' || path.startsWith('~/') ? join(homeDir, path.slice(1)) : path;
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

function parseBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const lower = value.toLowerCase();
  if (['true', 'yes', '1'].includes(lower)) return true;
  if (['false', 'no', '0'].includes(lower)) return false;
  return undefined;
}

function render(setting: Setting): string {
  const { value } = setting;
  if (!RENDERED_KEYS.has(setting.key)) return describeType(value, false);
  return typeof value === 'string' ? JSON.stringify(value) : describeType(value, true);
}

function describeType(value: unknown, withValue = true): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (isPlainObject(value)) return 'a mapping';
  const kind = typeof value === 'string' ? 'a string' : typeof value === 'number' ? 'a number' : typeof value;
  return withValue ? `${kind} (${typeof value === 'string' ? JSON.stringify(value) : String(value)})` : kind;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function childPath(parent: string, key: string): string {
  return SIMPLE_KEY.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}
