/** Which clouds.yaml and secure.yaml to read, in openstacksdk's search order; the first that exists of each wins. */
import { join } from 'node:path';
import type { OpenStackConfig } from '../../config/schema.ts';
import { findVariable } from './os-environment.ts';
import type { Environment } from './os-environment.ts';

export interface CandidateOptions {
  readonly openstack: OpenStackConfig;
  readonly env: Environment;
  readonly homeDir: string;
  readonly cwd: string;
}

export interface CloudConfigCandidates {
  readonly clouds: readonly string[];
  readonly secure: readonly string[];
}

export interface ParsedCloudFile {
  readonly path: string;
  readonly value: unknown;
}

/** Reads and parses one YAML file; undefined when there is no such file. */
export type ReadYamlFile = (path: string) => Promise<{ readonly value: unknown } | undefined>;

export interface FoundFiles {
  readonly clouds: ParsedCloudFile | undefined;
  readonly secure: ParsedCloudFile | undefined;
}

export function listCloudConfigCandidates(options: CandidateOptions): CloudConfigCandidates {
  const dirs = [options.cwd, join(options.homeDir, '.config', 'openstack'), '/etc/openstack'];
  const searched = (name: string, override: string | undefined): string[] => [
    ...new Set([...(override ? [override] : []), ...dirs.map((dir) => join(dir, name))]),
  ];
  // Our own setting replaces the clouds.yaml search (as openstacksdk's config_files argument does); secure.yaml
  // is still searched, so secrets can stay in a file of their own.
  const clouds =
    options.openstack.cloudsFile !== undefined
      ? [options.openstack.cloudsFile]
      : searched('clouds.yaml', findVariable(options.env, 'OS_CLIENT_CONFIG_FILE'));
  return { clouds, secure: searched('secure.yaml', findVariable(options.env, 'OS_CLIENT_SECURE_FILE')) };
}

/** Only the first existing file of each list is read: a broken file further down never matters. */
export async function readCandidateFiles(
  candidates: CloudConfigCandidates,
  readYamlFile: ReadYamlFile,
): Promise<ParsedCloudFile[]> {
  const files: ParsedCloudFile[] = [];
  for (const paths of [candidates.clouds, candidates.secure]) {
    for (const path of paths) {
      const parsed = await readYamlFile(path);
      if (parsed === undefined) continue;
      files.push({ path, value: parsed.value });
      break;
    }
  }
  return files;
}

export function findFiles(candidates: CloudConfigCandidates, files: readonly ParsedCloudFile[]): FoundFiles {
  const first = (paths: readonly string[]): ParsedCloudFile | undefined =>
    paths.map((path) => files.find((file) => file.path === path)).find((file) => file !== undefined);
  return { clouds: first(candidates.clouds), secure: first(candidates.secure) };
}
