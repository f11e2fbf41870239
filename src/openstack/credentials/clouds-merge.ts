// A named cloud from clouds.yaml with secure.yaml merged over it key by key, as openstacksdk's deep merge does.
// Structure errors name types only, never values: secure.yaml holds the secrets.
import { CloudsConfigError } from '../../errors.ts';
import { childPath, describeType, isPlainObject } from '../../validation/describe.ts';
import { AUTH_KEYS, TOP_KEYS } from './cloud-settings.ts';
import type { RawCloud, Setting } from './cloud-settings.ts';
import type { CloudConfigCandidates, FoundFiles, ParsedCloudFile } from './clouds-search.ts';

export function parseNamedCloud(options: {
  readonly name: string;
  /** What named the cloud (`openstack.cloud`, `OS_CLOUD`), the source of errors about finding it. */
  readonly selector: string;
  readonly candidates: CloudConfigCandidates;
  readonly found: FoundFiles;
}): RawCloud {
  const { name, selector, candidates, found } = options;
  const cloudsEntries = found.clouds && parseCloudsMapping(found.clouds);
  const secureEntries = found.secure && parseCloudsMapping(found.secure);
  if (!found.clouds && !found.secure) {
    throw new CloudsConfigError(selector, [
      `${JSON.stringify(name)} needs a clouds.yaml, but none was found (looked for ${candidates.clouds.join(', ')})`,
    ]);
  }
  const cloudsEntry = cloudsEntries?.[name];
  const secureEntry = secureEntries?.[name];
  if (cloudsEntry === undefined && secureEntry === undefined) {
    const names = [...new Set([...Object.keys(cloudsEntries ?? {}), ...Object.keys(secureEntries ?? {})])];
    const file = (found.clouds ?? found.secure)!.path;
    throw new CloudsConfigError(selector, [
      `${JSON.stringify(name)} is not in ${file} (clouds: ${names.length > 0 ? names.join(', ') : 'none'})`,
    ]);
  }
  const cloudPath = childPath('clouds', name);
  // The entry lives in clouds.yaml; only when secure.yaml alone has it is that file the place to point at.
  const home = cloudsEntry !== undefined ? found.clouds! : found.secure!;
  const top = new Map<string, Setting>();
  const auth = new Map<string, Setting>();
  // secure.yaml second, so its values win.
  for (const [file, entry] of [
    [found.clouds, cloudsEntry],
    [found.secure, secureEntry],
  ] as const) {
    if (!file || entry === undefined) continue;
    collectEntry({ file: file.path, cloudPath, entry, top, auth });
  }
  return {
    source: {
      kind: 'clouds-file',
      cloud: name,
      path: home.path,
      securePath: secureEntry === undefined ? undefined : found.secure?.path,
    },
    where: home.path,
    top,
    auth,
    nameOf: (section, key) => (section === 'auth' ? `${cloudPath}.auth.${key}` : `${cloudPath}.${key}`),
    shortNameOf: (key) => key,
  };
}

export function listCloudNames(file: ParsedCloudFile): string[] {
  try {
    return Object.keys(parseCloudsMapping(file));
  } catch {
    // A broken file is reported once a cloud in it is chosen; here it only cannot offer names.
    return [];
  }
}

function parseCloudsMapping(file: ParsedCloudFile): Record<string, unknown> {
  if (file.value === null || file.value === undefined) return {};
  if (!isPlainObject(file.value)) {
    throw new CloudsConfigError(file.path, [
      `must be a mapping with a clouds key, got ${describeType(file.value, { withValue: false })}`,
    ]);
  }
  const clouds = file.value['clouds'];
  if (clouds === undefined || clouds === null) return {};
  if (!isPlainObject(clouds)) {
    throw new CloudsConfigError(file.path, [
      `clouds: must be a mapping, got ${describeType(clouds, { withValue: false })}`,
    ]);
  }
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
  if (!isPlainObject(entry)) {
    throw new CloudsConfigError(file, [
      `${cloudPath}: must be a mapping, got ${describeType(entry, { withValue: false })}`,
    ]);
  }
  for (const key of TOP_KEYS) {
    if (entry[key] !== undefined) top.set(key, { value: entry[key], key, name: `${cloudPath}.${key}`, origin: file });
  }
  const authEntry = entry['auth'];
  if (authEntry === undefined || authEntry === null) return;
  if (!isPlainObject(authEntry)) {
    throw new CloudsConfigError(file, [
      `${cloudPath}.auth: must be a mapping, got ${describeType(authEntry, { withValue: false })}`,
    ]);
  }
  for (const key of AUTH_KEYS) {
    if (authEntry[key] !== undefined)
      auth.set(key, { value: authEntry[key], key, name: `${cloudPath}.auth.${key}`, origin: file });
  }
}
