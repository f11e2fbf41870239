/** Configs for tests, parsed by the exporter's own loader so they carry its defaults and pass its validation. */
import { parseConfigText } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';

/** The config this YAML describes, as if read from a file named test.yml. */
export function configWith(yaml: string): Config {
  return parseConfigText(yaml, 'test.yml');
}

/** One approved exception: the blog VM's MySQL (203.0.113.12, 3306/tcp), valid until 2027-01-31. */
export const BLOG_MYSQL_EXCEPTION = `
exceptions:
  - name: blog-mysql
    match: {ip: "203.0.113.12", ports: ["3306/tcp"]}
    reason: "SEC-200"
    expires: 2027-01-31
`;
