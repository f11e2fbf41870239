import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../src/config/duration.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseDuration', () => {
  const valid: [text: string, ms: number][] = [
    ['1h30m', HOUR + 30 * MINUTE],
    ['90s', 90 * SECOND],
    ['1d', DAY],
    ['0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['30s', 30 * SECOND],
    ['10m', 10 * MINUTE],
    ['50m', 50 * MINUTE],
    ['1w', 7 * DAY],
    ['1y', 365 * DAY],
    ['1m500ms', MINUTE + 500],
    ['1y2w3d4h5m6s7ms', 365 * DAY + 14 * DAY + 3 * DAY + 4 * HOUR + 5 * MINUTE + 6 * SECOND + 7],
    ['90m', 90 * MINUTE],
    ['0h5m', 5 * MINUTE],
  ];
  for (const [text, ms] of valid) {
    it(`reads ${JSON.stringify(text)} as ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms);
    });
  }

  const invalid: [text: string, why: string][] = [
    ['1h1h', 'a unit given twice'],
    ['1m1h', 'units out of order'],
    ['500ms1s', 'milliseconds before seconds'],
    ['1.5h', 'a fraction'],
    ['-1s', 'a negative duration'],
    ['', 'nothing'],
    ['h', 'a unit without a number'],
    ['ms', 'a unit without a number'],
    ['1', 'a bare number other than 0'],
    ['00', 'a bare number other than 0'],
    ['30', 'a bare number other than 0'],
    ['1H', 'an upper-case unit'],
    ['10 s', 'a space'],
    [' 10s', 'a leading space'],
    ['10sec', 'a unit Prometheus does not know'],
    ['1us', 'microseconds'],
    ['PT1H', 'ISO 8601'],
    ['999999999999y', 'more milliseconds than a safe integer holds'],
  ];
  for (const [text, why] of invalid) {
    it(`refuses ${JSON.stringify(text)}: ${why}`, () => {
      assert.equal(parseDuration(text), undefined);
    });
  }
});

describe('formatDuration', () => {
  const cases: [ms: number, text: string][] = [
    [0, '0s'],
    [500, '500ms'],
    [30 * SECOND, '30s'],
    [90 * SECOND, '1m30s'],
    [HOUR + 30 * MINUTE, '1h30m'],
    [50 * MINUTE, '50m'],
    [DAY, '1d'],
    [7 * DAY + 1, '1w1ms'],
    [365 * DAY, '1y'],
    [HOUR + 500, '1h500ms'],
  ];
  for (const [ms, text] of cases) {
    it(`writes ${ms} ms as ${text}`, () => {
      assert.equal(formatDuration(ms), text);
    });
  }

  it('writes text that parseDuration reads back to the same value', () => {
    for (const ms of [1, 999, 61_001, 5_400_000, 90_061_001, 400 * DAY + 1]) {
      assert.equal(parseDuration(formatDuration(ms)), ms, `${ms} as ${formatDuration(ms)}`);
    }
  });
});
