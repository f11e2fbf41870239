/** Where a request with our token may go: paths join the endpoint, absolute links stay on its origin. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveRequestUrl } from '../../src/openstack/session/url-guard.ts';

describe('resolveRequestUrl', () => {
  it('joins a path to the endpoint with exactly one slash, keeping its query', () => {
    assert.deepEqual(
      [
        resolveRequestUrl('http://nova:8774/v2.1', 'servers/detail?all_tenants=1', 'compute').href,
        resolveRequestUrl('http://nova:8774/v2.1/', '/servers/detail', 'compute').href,
      ],
      ['http://nova:8774/v2.1/servers/detail?all_tenants=1', 'http://nova:8774/v2.1/servers/detail'],
    );
  });

  it('follows an absolute URL on the endpoint origin, whatever its path', () => {
    assert.equal(
      resolveRequestUrl('http://nova:8774/v2.1', 'HTTP://nova:8774/other?marker=x', 'compute').href,
      'http://nova:8774/other?marker=x',
    );
  });

  it('refuses an absolute URL on another origin, a different port or scheme included', () => {
    const refusals = [
      'http://203.0.113.9:8774/v2.1/servers?marker=y',
      'http://nova:9999/v2.1/servers',
      'https://nova:8774/v2.1/servers',
    ].map((url) => {
      try {
        return resolveRequestUrl('http://nova:8774/v2.1', url, 'compute').href;
      } catch (err) {
        return `${(err as { code?: string }).code} ${(err as Error).message}`;
      }
    });
    assert.deepEqual(refusals, [
      'OPENSTACK_HTTP GET compute http://203.0.113.9:8774/v2.1/servers: refusing a URL outside the compute endpoint http://nova:8774 (the token would go with it)',
      'OPENSTACK_HTTP GET compute http://nova:9999/v2.1/servers: refusing a URL outside the compute endpoint http://nova:8774 (the token would go with it)',
      'OPENSTACK_HTTP GET compute https://nova:8774/v2.1/servers: refusing a URL outside the compute endpoint http://nova:8774 (the token would go with it)',
    ]);
  });
});
