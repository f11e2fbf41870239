// The config as the exporter runs it: the settings, plus the scan plan and classification rules built once per load.
// Built here, not in config/, because the default port set and the severity table belong to later stages.
import type { Config } from '../config/schema.ts';
import { buildScanPlan } from '../targets/scan-plan.ts';
import type { ScanPlan } from '../targets/scan-plan.ts';
import type { ClassificationRules } from '../exposure/classify.ts';
import { buildSeverityTable, builtinRiskyTcpPorts, builtinRiskyUdpPorts } from '../exposure/severity.ts';

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

export function buildClassificationRules(settings: Config): ClassificationRules {
  return {
    standardPorts: settings.standardPorts,
    severities: buildSeverityTable(settings.severityOverrides),
    overriddenPorts: new Set(settings.severityOverrides.keys()),
    exceptions: settings.exceptions,
  };
}
