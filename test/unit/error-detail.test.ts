/** The message an OpenStack service put in an error body, fit to quote. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractErrorMessage, formatErrorDetail } from '../../src/openstack/session/error-detail.ts';

describe('extractErrorMessage', () => {
  it("finds the message in Keystone's, Nova's and Neutron's error bodies, and none in other text", () => {
    assert.deepEqual(
      [
        '{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}',
        '{"forbidden": {"code": 403, "message": "Policy does not allow it."}}',
        '{"NeutronError": {"type": "HTTPNotFound", "message": "The resource could not be found.", "detail": ""}}',
        '<html>Service Unavailable</html>',
        '{"error": {"message": ""}}',
        '["message"]',
      ].map(extractErrorMessage),
      [
        'The request you have made requires authentication.',
        'Policy does not allow it.',
        'The resource could not be found.',
        undefined,
        undefined,
        undefined,
      ],
    );
  });
});

describe('formatErrorDetail', () => {
  it('shortens a long message to 300 characters and scrubs it', () => {
    const detail = formatErrorDetail(JSON.stringify({ error: { message: `secret ${'x'.repeat(400)}` } }), (text) =>
      text.replace('secret', '[redacted]'),
    );
    assert.equal(detail, `: [redacted] ${'x'.repeat(293)}…`);
  });

  it('adds nothing for a body without a message', () => {
    assert.equal(
      formatErrorDetail('', (text) => text),
      '',
    );
  });
});
