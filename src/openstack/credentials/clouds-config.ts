/** Finds OpenStack credentials as openstacksdk does: a clouds.yaml entry (secure.yaml over it), else OS_* variables. */
import type { OpenStackConfig } from '../../config/schema.ts';
import { CloudsConfigError } from '../../errors.ts';
import type { CloudCredentials } from './cloud-credentials.ts';
import { parseCredentials } from './cloud-validation.ts';
import { listCloudNames, parseNamedCloud } from './clouds-merge.ts';
import { findFiles, listCloudConfigCandidates, readCandidateFiles } from './clouds-search.ts';
import type { CandidateOptions, FoundFiles, ParsedCloudFile, ReadYamlFile } from './clouds-search.ts';
import { buildEnvironmentCloud, findVariable, hasCredentialVariables } from './os-environment.ts';

export interface ResolveCredentialsOptions extends CandidateOptions {
  /** The candidates that exist, in any order; paths that are not candidates are ignored. */
  readonly files: readonly ParsedCloudFile[];
}

export interface LoadCredentialsOptions extends CandidateOptions {
  readonly readYamlFile: ReadYamlFile;
}

export async function loadCloudCredentials(options: LoadCredentialsOptions): Promise<CloudCredentials> {
  const { readYamlFile, ...candidateOptions } = options;
  const files = await readCandidateFiles(listCloudConfigCandidates(candidateOptions), readYamlFile);
  return resolveCloudCredentials({ ...candidateOptions, files });
}

/** Unlike openstacksdk, a clouds.yaml's only entry is not picked silently: the config should say which cloud. */
export function resolveCloudCredentials(options: ResolveCredentialsOptions): CloudCredentials {
  const { openstack, env } = options;
  const candidates = listCloudConfigCandidates(options);
  const found = findFiles(candidates, options.files);
  if (openstack.cloudsFile !== undefined && !found.clouds) {
    throw new CloudsConfigError('openstack.clouds_file', [`${JSON.stringify(openstack.cloudsFile)} does not exist`]);
  }
  const context = { openstack, homeDir: options.homeDir };
  const named = selectCloud(openstack, findVariable(env, 'OS_CLOUD'));
  if (named !== undefined) return parseCredentials(parseNamedCloud({ ...named, candidates, found }), context);
  if (hasCredentialVariables(env)) return parseCredentials(buildEnvironmentCloud(env), context);
  throw new CloudsConfigError('openstack', [`no cloud selected: ${describeChoices(found)}`]);
}

function selectCloud(
  openstack: OpenStackConfig,
  osCloud: string | undefined,
): { name: string; selector: string } | undefined {
  if (openstack.cloud !== undefined) return { name: openstack.cloud, selector: 'openstack.cloud' };
  if (osCloud !== undefined) return { name: osCloud, selector: 'OS_CLOUD' };
  return undefined;
}

function describeChoices(found: FoundFiles): string {
  const file = found.clouds ?? found.secure;
  const names = file ? listCloudNames(file) : [];
  const offer = file && names.length > 0 ? ` (clouds in ${file.path}: ${names.join(', ')})` : '';
  return `set openstack.cloud or OS_CLOUD${offer}, or the OS_* variables (OS_AUTH_URL, OS_USERNAME, ...)`;
}
