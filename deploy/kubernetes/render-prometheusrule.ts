/**
 * Renders prometheusrule.yaml: the Prometheus Operator's PrometheusRule wrapping the groups of
 * alerts/exposure-rules.yml, so that a cluster runs exactly the rules promtool tests (alerts/tests/).
 * Run it after every change to the rules, from the repository's root:
 *
 *     npx node deploy/kubernetes/render-prometheusrule.ts
 *
 * test/integration/kubernetes.test.ts fails while the committed prometheusrule.yaml differs from its output.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Document, isSeq, parseDocument } from 'yaml';

export const RULES_FILE = new URL('../../alerts/exposure-rules.yml', import.meta.url).pathname;
export const PROMETHEUS_RULE_FILE = new URL('./prometheusrule.yaml', import.meta.url).pathname;

const HEADER = [
  ' GENERATED from alerts/exposure-rules.yml by deploy/kubernetes/render-prometheusrule.ts: edit the rules',
  ' there and run `npx node deploy/kubernetes/render-prometheusrule.ts`, never this file.',
  '',
  ' The rules select job="exposure-exporter", which servicemonitor.yaml sets whatever the Service is called.',
  " The comments next to each rule are the rules file's own: they explain each `for:` duration.",
  ' A Prometheus of the Operator loads this only if its ruleSelector matches these labels: add the label it',
  ' selects on (kube-prometheus-stack selects its `release` label) in an overlay or below.',
].join('\n');

/**
 * The PrometheusRule for the rules file's text. The groups are carried over as YAML nodes, not as values,
 * so each rule keeps its explaining comments and its block-scalar expressions.
 */
export function renderPrometheusRule(rulesText: string): string {
  const source = parseDocument(rulesText, { uniqueKeys: true });
  const [firstError] = source.errors;
  if (firstError) throw new Error(`alerts/exposure-rules.yml: ${firstError.message}`);
  const groups = source.get('groups', true);
  if (!isSeq(groups)) throw new Error('alerts/exposure-rules.yml: `groups` is not a list');
  const rule = new Document({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'exposure-exporter', labels: { 'app.kubernetes.io/name': 'exposure-exporter' } },
    spec: {},
  });
  rule.setIn(['spec', 'groups'], groups);
  rule.commentBefore = HEADER;
  // lineWidth 0: the rules' long annotation strings stay on one line each, as in the rules file.
  return rule.toString({ lineWidth: 0 });
}

async function writePrometheusRule(): Promise<void> {
  await writeFile(PROMETHEUS_RULE_FILE, renderPrometheusRule(await readFile(RULES_FILE, 'utf8')));
}

if (import.meta.main) await writePrometheusRule();
