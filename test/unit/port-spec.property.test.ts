/**
 * Properties of the nmap port-list parser over generated lists. The seed is fixed so a run is repeatable;
 * a failure prints the counterexample fast-check shrank it to.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mergePortIntervals, parsePortSpec, renderPortSpec } from '../../src/net/port-spec.ts';
import type { PortInterval } from '../../src/net/port-spec.ts';

fc.configureGlobal({ seed: 20_261_126, numRuns: 200 });

const MAX_PORT = 65535;

/** Mostly intervals among the first few hundred ports, so they overlap and touch; sometimes anywhere. */
const interval: fc.Arbitrary<PortInterval> = fc
  .oneof(
    { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 0, max: 40 })) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: MAX_PORT }), fc.integer({ min: 0, max: MAX_PORT })) },
  )
  .map(([first, length]) => ({ first, last: Math.min(first + length, MAX_PORT) }));

const intervals = fc.array(interval, { minLength: 1, maxLength: 12 });

/** A port list as a person writes it: items in any order, single ports bare, ranges as a-b. */
function writeList(list: readonly PortInterval[]): string {
  return list.map((i) => (i.first === i.last ? `${i.first}` : `${i.first}-${i.last}`)).join(',');
}

const specText = intervals.map(writeList);

function parsed(text: string): readonly PortInterval[] {
  const result = parsePortSpec(text);
  assert.ok(result.ok, `${JSON.stringify(text)} parses`);
  return result.ports;
}

function includes(list: readonly PortInterval[], port: number): boolean {
  return list.some((i) => i.first <= port && port <= i.last);
}

describe('port-spec parser properties', () => {
  it('reads back every list it renders', () => {
    fc.assert(
      fc.property(intervals, (list) => {
        const merged = mergePortIntervals(list);
        assert.deepEqual(parsed(renderPortSpec(merged)), merged);
      }),
    );
  });

  it('merges a written list into sorted intervals that neither overlap nor touch, covering the same ports', () => {
    fc.assert(
      fc.property(intervals, (list) => {
        const merged = parsed(writeList(list));
        merged.forEach((i, index) => {
          assert.ok(1 <= i.first && i.first <= i.last && i.last <= MAX_PORT, 'an interval lies within 1-65535');
          const next = merged[index + 1];
          if (next) assert.ok(next.first > i.last + 1, 'intervals are sorted and separate');
        });
        // Every item end and its neighbours: where a merge that drops or adds ports would show.
        const probes = list.flatMap((i) => [i.first - 1, i.first, i.first + 1, i.last - 1, i.last, i.last + 1]);
        for (const port of probes) assert.equal(includes(merged, port), includes(list, port), `port ${port}`);
      }),
    );
  });

  it('renders only digits, commas and dashes, never with a leading dash', () => {
    fc.assert(
      fc.property(intervals, (list) => {
        assert.match(renderPortSpec(mergePortIntervals(list)), /^[0-9][0-9,-]*$/);
      }),
    );
  });

  it('refuses a valid list with any character other than a digit, comma or dash put anywhere in it', () => {
    const outsider = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !/^[0-9,-]$/.test(c));
    fc.assert(
      fc.property(specText, outsider, fc.nat(), (text, c, at) => {
        const position = at % (text.length + 1);
        assert.equal(parsePortSpec(`${text.slice(0, position)}${c}${text.slice(position)}`).ok, false);
      }),
    );
  });

  it('refuses nmap protocol prefixes (T:, U:, S:) before a valid list', () => {
    fc.assert(
      fc.property(fc.constantFrom('T:', 'U:', 'S:', 't:', 'u:'), specText, (prefix, text) => {
        assert.equal(parsePortSpec(`${prefix}${text}`).ok, false);
      }),
    );
  });

  it('refuses every string that starts with "-", whatever follows', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (rest) => {
        assert.deepEqual(parsePortSpec(`-${rest}`), { ok: false, reason: 'must not start with "-"' });
      }),
    );
  });
});
