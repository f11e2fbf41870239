/** A cloud from the plain OS_* variables, as the openstack CLI reads them when no cloud is named. */
import { AUTH_KEYS, variableOf } from './cloud-settings.ts';
import type { RawCloud, Setting, TopKey } from './cloud-settings.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

/** `regions` and `verify` have no variable: OS_REGION_NAME and OS_INSECURE say the same. */
const ENV_TOP_KEYS: readonly TopKey[] = [
  'auth_type',
  'region_name',
  'interface',
  'insecure',
  'cacert',
  'identity_api_version',
];

/** A variable's value; an exported but empty one (`export OS_PROJECT_ID=`) means unset, as it does to the openstack CLI. */
export function findVariable(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function hasCredentialVariables(env: Environment): boolean {
  return [...AUTH_KEYS, 'auth_type'].some((key) => findVariable(env, variableOf(key)) !== undefined);
}

export function buildEnvironmentCloud(env: Environment): RawCloud {
  const settings = (keys: readonly string[]): Map<string, Setting> => {
    const map = new Map<string, Setting>();
    for (const key of keys) {
      const variable = variableOf(key);
      const value = findVariable(env, variable);
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
