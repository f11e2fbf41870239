/** Configs for tests, parsed by the exporter's own loader so they carry its defaults and pass its validation. */
import { parseConfigText } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { ClassificationRules } from '../../src/core/classify.ts';
import { buildClassificationRules, buildExporterConfig } from '../../src/core/exporter-config.ts';
import type { ExporterConfig } from '../../src/core/exporter-config.ts';

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
