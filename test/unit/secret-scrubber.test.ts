import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretScrubber } from '../../src/openstack/session/secret-scrubber.ts';

describe('SecretScrubber', () => {
  it('replaces every occurrence of each secret, a longer one that contains a shorter one whole', () => {
    const scrubber = new SecretScrubber(['tok', 'hunter2']);
    scrubber.add('tok-2-long');
    assert.equal(
      scrubber.scrub('tok-2-long then tok and hunter2, hunter2'),
      '[redacted] then [redacted] and [redacted], [redacted]',
    );
  });

  it('ignores an empty secret instead of redacting between every character', () => {
    assert.equal(new SecretScrubber(['']).scrub('nothing secret'), 'nothing secret');
  });
});
