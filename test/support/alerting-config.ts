/**
 * The shipped alerting files (alerts/) as tests run them: always the shipped text, parsed, with only what
 * a test cannot use changed on the parsed copy (placeholder endpoints, hour-scale durations), never by
 * shipping test values.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

export const ALERTS_DIR = new URL('../../alerts/', import.meta.url).pathname;
export const RULES_FILE = join(ALERTS_DIR, 'exposure-rules.yml');
export const ALERTMANAGER_FILE = join(ALERTS_DIR, 'alertmanager.yml');
export const TEMPLATES_GLOB = join(ALERTS_DIR, 'templates', '*.tmpl');

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

interface RuleFile {
  groups: { name: string; rules: Record<string, unknown>[] }[];
}

interface Route {
  group_wait?: string;
  group_interval?: string;
  routes?: Route[];
}

interface AlertmanagerConfig {
  global?: Record<string, unknown>;
  templates?: string[];
  route: Route;
  receivers: { name: string; webhook_configs?: { url: string }[]; email_configs?: Record<string, unknown>[] }[];
}

export async function readShippedRules(): Promise<AlertingRule[]> {
  const file = parse(await readFile(RULES_FILE, 'utf8')) as RuleFile;
  return file.groups.flatMap((group) => group.rules as unknown as AlertingRule[]);
}

/**
 * The shipped rules with every `for:` replaced: they are sized for an hourly scan, and an end-to-end test
 * cannot wait 90 minutes for ExposureNonstandardPortOpen.
 */
export async function renderRulesForTest(options: { forDuration: string }): Promise<string> {
  const file = parse(await readFile(RULES_FILE, 'utf8')) as RuleFile;
  for (const group of file.groups) {
    for (const rule of group.rules) {
      if ('alert' in rule) rule['for'] = options.forDuration;
    }
  }
  return stringify(file);
}

/**
 * The shipped Alertmanager config pointed at the test's own receivers: the SMTP smarthost and every
 * webhook go to loopback, SMTP auth and TLS are off (the test server offers neither), templates are
 * read from alerts/templates by absolute path (the copy lives in a temp dir), and every route's
 * group_wait and group_interval are shortened. Recipients, matchers, grouping and inhibitions stay as
 * shipped, which is what the tests are about.
 */
export async function renderAlertmanagerConfigForTest(options: {
  smtpAddress: string;
  webhookUrl: string;
  groupWait: string;
  groupInterval: string;
}): Promise<string> {
  const config = parse(await readFile(ALERTMANAGER_FILE, 'utf8')) as AlertmanagerConfig;
  const global = config.global ?? {};
  global['smtp_smarthost'] = options.smtpAddress;
  global['smtp_require_tls'] = false;
  delete global['smtp_auth_username'];
  delete global['smtp_auth_password'];
  config.global = global;
  config.templates = [TEMPLATES_GLOB];
  shortenRoute(config.route, options);
  for (const receiver of config.receivers) {
    for (const webhook of receiver.webhook_configs ?? []) webhook.url = options.webhookUrl;
    for (const email of receiver.email_configs ?? []) {
      // A per-receiver smarthost would escape the rewrite above and mail a real relay.
      if ('smarthost' in email)
        throw new Error(`receiver ${receiver.name} sets its own smarthost; render it for the test too`);
    }
  }
  return stringify(config);
}

function shortenRoute(route: Route, options: { groupWait: string; groupInterval: string }): void {
  route.group_wait = options.groupWait;
  route.group_interval = options.groupInterval;
  for (const child of route.routes ?? []) shortenRoute(child, options);
}
