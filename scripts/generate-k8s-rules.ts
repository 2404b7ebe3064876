/** Writes deploy/kubernetes/prometheus-rule.yaml from deploy/prometheus/alerts.yml: `npm run generate:k8s-rules`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { alertRulesFile, prometheusRuleFile, renderPrometheusRule } from './prometheus-rule-manifest.js';

writeFileSync(prometheusRuleFile, renderPrometheusRule(readFileSync(alertRulesFile, 'utf8')));
console.log(`wrote ${relative(process.cwd(), prometheusRuleFile)}`);
