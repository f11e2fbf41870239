import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { renderHistorySummary } from '../../src/config/history-settings.ts';
import { defaultConfig } from '../../src/config/schema.ts';
import { configProblems } from '../support/config.ts';

const DAY_MS = 24 * 3600 * 1000;

describe('history settings', () => {
  it('keeps history by default, beside the state file, 400 days, critical within 15d and high within 30d', () => {
    const { history } = defaultConfig();
    assert.equal(history.enabled, true);
    assert.equal(history.path, undefined);
    assert.equal(history.retentionMs, 400 * DAY_MS);
    assert.deepEqual(
      [...history.remediationTargetsMs],
      [
        ['critical', 15 * DAY_MS],
        ['high', 30 * DAY_MS],
      ],
    );
  });

  it('reads a path, a retention and targets, `none` removing a default one', () => {
    const { history } = parseConfigText(
      'history:\n  path: /var/lib/x/h.db\n  retention: 2y\n  remediation_targets: {high: none, medium: 90d}\n',
      'c.yml',
    );
    assert.equal(history.path, '/var/lib/x/h.db');
    assert.equal(history.retentionMs, 730 * DAY_MS);
    assert.deepEqual(
      [...history.remediationTargetsMs],
      [
        ['critical', 15 * DAY_MS],
        ['medium', 90 * DAY_MS],
      ],
    );
    assert.equal(parseConfigText('history: {enabled: false}\n', 'c.yml').history.enabled, false);
  });

  const invalid: [string, string[]][] = [
    [
      'history: {keep: 1y}\n',
      ['c.yml: history.keep: unknown key (expected one of enabled, path, retention, remediation_targets)'],
    ],
    [
      'history: {retention: forever}\n',
      ['c.yml: history.retention: "forever" is not a valid duration (use Prometheus syntax such as 30s, 10m, 1h)'],
    ],
    ['history: {retention: 0}\n', ['c.yml: history.retention: must be longer than 0s']],
    ['history: {enabled: "yes"}\n', ['c.yml: history.enabled: "yes" must be true or false']],
    ['history: {path: ""}\n', ['c.yml: history.path: must not be empty']],
    [
      'history:\n  remediation_targets: {urgent: 1d, high: 0}\n',
      [
        'c.yml: history.remediation_targets.urgent: unknown key (expected one of critical, high, medium, low)',
        'c.yml: history.remediation_targets.high: must be longer than 0s, or none',
      ],
    ],
  ];
  for (const [yaml, problems] of invalid) {
    it(`refuses ${JSON.stringify(yaml)}`, () => {
      assert.deepEqual(configProblems(yaml), problems);
    });
  }

  it('says in one line where the tickets go and when one is overdue, for --config.check', () => {
    const { history } = defaultConfig();
    assert.equal(
      renderHistorySummary(history, 'data/state.json'),
      'history: data/history.db (closed tickets kept 400d; overdue after critical 15d, high 30d)',
    );
    const custom = parseConfigText(
      'history:\n  path: /srv/h.db\n  retention: 36h\n  remediation_targets: {critical: none, high: none}\n',
      'c.yml',
    ).history;
    assert.equal(
      renderHistorySummary(custom, 'x'),
      'history: /srv/h.db (closed tickets kept 1d12h; no remediation targets)',
    );
    assert.equal(renderHistorySummary({ ...history, enabled: false }, 'x'), 'history: off');
  });
});
