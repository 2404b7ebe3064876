/**
 * Renders deploy/kubernetes/prometheus-rule.yaml, the Prometheus Operator's
 * PrometheusRule, from deploy/prometheus/alerts.yml: the same groups, rules
 * and comments under `spec`, so the rules are written once. The generator
 * script writes the result; test/deploy/kubernetes.test.ts renders it again
 * and fails when the committed file differs. The output depends only on the
 * text of alerts.yml (and the yaml package's version, fixed by the lock file).
 */
import { fileURLToPath } from 'node:url';
import { Document, isMap, isSeq, parseDocument } from 'yaml';

export const alertRulesFile = fileURLToPath(new URL('../deploy/prometheus/alerts.yml', import.meta.url));
export const prometheusRuleFile = fileURLToPath(new URL('../deploy/kubernetes/prometheus-rule.yaml', import.meta.url));
export const generateRulesCommand = 'npm run generate:k8s-rules';

const header = `# GENERATED FILE, do not edit: the rules of deploy/prometheus/alerts.yml as a Prometheus
# Operator PrometheusRule. Change alerts.yml and run \`${generateRulesCommand}\`
# (scripts/generate-k8s-rules.ts); test/deploy/kubernetes.test.ts fails when this file is stale.
# Your Prometheus may select rules by a label (ruleSelector, for example
# \`release: <your kube-prometheus-stack release>\`): add it with kustomize rather than here.
`;

/** The PrometheusRule manifest for the text of alerts.yml; throws if that text is not YAML with a `groups` list. */
export function renderPrometheusRule(alertsYaml: string): string {
  const source = parseDocument(alertsYaml);
  if (source.errors.length > 0) throw new Error(`alerts.yml is not valid YAML: ${source.errors[0]?.message ?? ''}`);
  if (!isMap(source.contents)) throw new Error('alerts.yml must be a map with a groups list');
  // The node itself, not its value: the comments on the rules come along.
  const groups = source.contents.get('groups', true);
  if (!isSeq(groups)) throw new Error('alerts.yml has no groups list');
  const manifest = new Document({
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'ampersand-health-monitor', labels: { 'app.kubernetes.io/name': 'ampersand-health-monitor' } },
    spec: {},
  });
  const spec = manifest.get('spec', true);
  if (!isMap(spec)) throw new Error('unreachable: spec is a map');
  spec.set('groups', groups);
  // lineWidth 0: never fold a long summary or expression onto a second line.
  return header + manifest.toString({ lineWidth: 0 });
}
