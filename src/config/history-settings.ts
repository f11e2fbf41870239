/** The `history` block: where the tickets are kept, for how long, and the remediation target per severity. */
import type { Validator } from '../validation/validator.ts';
import { dirname, join } from 'node:path';
import { formatDuration, parseDurationSetting } from './duration.ts';
import { SEVERITY_LEVELS } from './severity-levels.ts';
import type { SeverityLevel } from './severity-levels.ts';

export interface HistorySettings {
  readonly enabled: boolean;
  /** Undefined: `history.db` beside the state file (wherever a world-writable state directory moved it). */
  readonly path: string | undefined;
  readonly retentionMs: number;
  /** Severities without a target are never overdue. */
  readonly remediationTargetsMs: ReadonlyMap<SeverityLevel, number>;
}

const DAY_MS = 24 * 3600 * 1000;
const HISTORY_KEYS = ['enabled', 'path', 'retention', 'remediation_targets'];

/** CISA BOD 19-02: critical vulnerabilities remediated within 15 days, high within 30. */
export const DEFAULT_REMEDIATION_TARGETS: ReadonlyMap<SeverityLevel, number> = new Map([
  ['critical', 15 * DAY_MS],
  ['high', 30 * DAY_MS],
]);

export function parseHistorySettings(validator: Validator, raw: unknown): HistorySettings | undefined {
  const history = validator.mapping(raw, 'history', HISTORY_KEYS);
  if (!history) return undefined;
  const enabled = validator.boolean(history['enabled'] ?? true, 'history.enabled');
  const path = history['path'] === undefined ? undefined : validator.nonEmptyString(history['path'], 'history.path');
  const retentionMs = parseDurationSetting(validator, history['retention'] ?? '400d', 'history.retention', 'age');
  const targets = parseRemediationTargets(validator, history['remediation_targets']);
  if (enabled === undefined || retentionMs === undefined || !targets) return undefined;
  if (history['path'] !== undefined && path === undefined) return undefined;
  if (retentionMs === 0) return validator.report('history.retention', 'must be longer than 0s');
  return { enabled, path, retentionMs, remediationTargetsMs: targets };
}

/** A severity set to `none` has no target; one left out keeps its default. */
function parseRemediationTargets(validator: Validator, raw: unknown): Map<SeverityLevel, number> | undefined {
  const targets = new Map(DEFAULT_REMEDIATION_TARGETS);
  if (raw === undefined) return targets;
  const entries = validator.mapping(raw, 'history.remediation_targets', SEVERITY_LEVELS);
  if (!entries) return undefined;
  let valid = true;
  for (const level of SEVERITY_LEVELS) {
    const value = entries[level];
    if (value === undefined) continue;
    if (value === 'none') {
      targets.delete(level);
      continue;
    }
    const ms = parseDurationSetting(validator, value, `history.remediation_targets.${level}`, 'age');
    if (ms === undefined || ms === 0) {
      if (ms === 0) validator.report(`history.remediation_targets.${level}`, 'must be longer than 0s, or none');
      valid = false;
      continue;
    }
    targets.set(level, ms);
  }
  return valid ? targets : undefined;
}

/** history.path, or history.db beside the state file (its real place, when a world-writable directory moved it). */
export function resolveHistoryPath(settings: HistorySettings, statePath: string): string {
  return settings.path ?? join(dirname(statePath), 'history.db');
}

/** The --config.check line: where the tickets go, how long closed ones stay, when an open one is overdue. */
export function renderHistorySummary(settings: HistorySettings, statePath: string): string {
  if (!settings.enabled) return 'history: off';
  const targets = [...settings.remediationTargetsMs].map(([level, ms]) => `${level} ${formatDays(ms)}`);
  const overdue = targets.length > 0 ? `overdue after ${targets.join(', ')}` : 'no remediation targets';
  return `history: ${resolveHistoryPath(settings, statePath)} (closed tickets kept ${formatDays(settings.retentionMs)}; ${overdue})`;
}

/** In days when whole, as the targets are set (15d, not Prometheus's 2w1d). */
function formatDays(ms: number): string {
  return ms % DAY_MS === 0 ? `${ms / DAY_MS}d` : formatDuration(ms);
}
