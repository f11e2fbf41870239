/** Reads a cloud's raw settings into typed values, collecting every problem and where each value used was read. */
import { renderValue } from '../../validation/describe.ts';
import { variableOf } from './cloud-settings.ts';
import type { RawCloud, Section, Setting } from './cloud-settings.ts';

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

export class CloudReader {
  readonly problems: string[] = [];
  readonly origins: Record<string, string> = {};
  readonly #raw: RawCloud;

  constructor(raw: RawCloud) {
    this.#raw = raw;
  }

  setting(section: Section, key: string): Setting | undefined {
    return (section === 'top' ? this.#raw.top : this.#raw.auth).get(key);
  }

  has(section: Section, key: string): boolean {
    return this.setting(section, key) !== undefined;
  }

  nameOf(section: Section, key: string): string {
    return this.#raw.nameOf(section, key);
  }

  either(section: Section, first: string, second: string): string {
    return `${this.nameOf(section, first)} or ${this.#raw.shortNameOf(second)}`;
  }

  shortName(key: string): string {
    return this.#raw.shortNameOf(key);
  }

  assignment(key: string, value: string): string {
    return this.#raw.source.kind === 'environment' ? `${variableOf(key)}=${value}` : `${key}: ${value}`;
  }

  report(message: string): undefined {
    this.problems.push(message);
    return undefined;
  }

  reportValue(setting: Setting, complaint: string): undefined {
    const elsewhere = setting.origin === this.#raw.where ? '' : ` (in ${setting.origin})`;
    return this.report(`${setting.name}: ${complaint}${elsewhere}`);
  }

  use(outputKey: string, setting: Setting): void {
    this.origins[outputKey] = setting.origin === 'environment' ? setting.name : `${setting.origin}: ${setting.name}`;
  }

  /** A non-empty string, or undefined (absent or invalid, the latter reported). Marks the setting used. */
  text(section: Section, key: string): string | undefined {
    const setting = this.setting(section, key);
    if (!setting) return undefined;
    if (typeof setting.value !== 'string') {
      // YAML reads `project_id: 12345` or `password: 123456` as a number; quoting keeps leading zeros intact.
      return this.reportValue(setting, `${renderSetting(setting)} must be a string (quote it in YAML)`);
    }
    if (setting.value === '') return this.reportValue(setting, 'must not be empty');
    this.use(key, setting);
    return setting.value;
  }

  required(section: Section, key: string, hint = ''): string | undefined {
    if (!this.has(section, key)) return this.report(`${this.nameOf(section, key)} is required${hint}`);
    return this.text(section, key);
  }

  boolean(section: Section, key: string): boolean | undefined {
    const setting = this.setting(section, key);
    if (!setting) return undefined;
    const value = parseBoolean(setting.value);
    if (value === undefined) return this.reportValue(setting, `${renderSetting(setting)} must be true or false`);
    this.use(key, setting);
    return value;
  }
}

export function renderSetting(setting: Setting): string {
  return renderValue(setting.value, { withValue: RENDERED_KEYS.has(setting.key) });
}

/** YAML booleans, and the strings the OS_* variables carry (`OS_INSECURE=true`, `yes`, `1`). */
export function parseBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const lower = value.toLowerCase();
  if (['true', 'yes', '1'].includes(lower)) return true;
  if (['false', 'no', '0'].includes(lower)) return false;
  return undefined;
}
