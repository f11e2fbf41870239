/** Configs for tests, parsed by the exporter's own loader so they carry its defaults and pass its validation. */
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { ClassificationRules } from '../../src/exposure/classify.ts';
import { buildClassificationRules, buildExporterConfig } from '../../src/state/exporter-config.ts';
import type { ExporterConfig } from '../../src/state/exporter-config.ts';
import { ConfigError } from '../../src/errors.ts';

/** The settings this YAML describes, as if read from a file named test.yml. */
export function settingsWith(yaml: string): Config {
  return parseConfigText(yaml, 'test.yml');
}

/** The settings with the scan plan and classification rules built from them, as the exporter runs them. */
export function configWith(yaml: string): ExporterConfig {
  return buildExporterConfig(settingsWith(yaml));
}

/** Only the classification rules of this YAML. */
export function rulesWith(yaml: string): ClassificationRules {
  return buildClassificationRules(settingsWith(yaml));
}

/** One approved exception: the blog VM's MySQL (203.0.113.12, 3306/tcp), valid until 2027-01-31. */
export const BLOG_MYSQL_EXCEPTION = `
exceptions:
  - name: blog-mysql
    match: {ip: "203.0.113.12", ports: ["3306/tcp"]}
    reason: "SEC-200"
    expires: 2027-01-31
`;

/** Every problem the loader finds in this YAML, as it prints them for a file named c.yml; fails if it accepts it. */
export function configProblems(yaml: string): string[] {
  try {
    parseConfigText(yaml, 'c.yml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.problems.map((problem) => `c.yml: ${problem}`);
  }
  assert.fail(`the config was accepted:\n${yaml}`);
}
