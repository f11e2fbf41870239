/**
 * The config as the exporter runs it: the validated settings, plus what is built from them once per load,
 * the scan plan (this replica's targets and ports) and the rules that classify open ports. Built here, not
 * in config/, because the default port set and the severity table belong to scanning and classification.
 */
import type { Config } from '../config/schema.ts';
import { buildScanPlan } from '../scan/scan-plan.ts';
import type { ScanPlan } from '../scan/scan-plan.ts';
import type { ClassificationRules } from './classify.ts';
import { buildSeverityTable, builtinRiskyTcpPorts, builtinRiskyUdpPorts } from './severity.ts';

export interface ExporterConfig {
  readonly settings: Config;
  readonly plan: ScanPlan;
  readonly rules: ClassificationRules;
}

export function buildExporterConfig(settings: Config): ExporterConfig {
  return {
    settings,
    plan: buildScanPlan(settings.scan, { riskyPorts: builtinRiskyTcpPorts(), riskyUdpPorts: builtinRiskyUdpPorts() }),
    rules: buildClassificationRules(settings),
  };
}

/** The settings' exceptions already have the shape classification needs; only the severities are merged. */
export function buildClassificationRules(settings: Config): ClassificationRules {
  return {
    standardPorts: settings.standardPorts,
    severities: buildSeverityTable(settings.severityOverrides),
    overriddenPorts: new Set(settings.severityOverrides.keys()),
    exceptions: settings.exceptions,
  };
}
