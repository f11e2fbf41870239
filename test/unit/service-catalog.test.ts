/** The service catalog of a token: reading it leniently, and finding an endpoint by region and interface. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findEndpoint, parseCatalog } from '../../src/openstack/session/service-catalog.ts';
import { ExporterError } from '../../src/errors.ts';

describe('parseCatalog', () => {
  it('skips entries and endpoints it cannot use, and takes region_id over the older region', () => {
    const catalog = parseCatalog([
      'not an entry',
      { name: 'no type', endpoints: [] },
      { type: 'compute', endpoints: 'not a list' },
      {
        type: 'network',
        name: 'neutron',
        endpoints: [
          { interface: 'public', region_id: 'RegionOne', region: 'Old', url: 'http://n-public' },
          { interface: 'internal', region: 'RegionTwo', url: 'http://n-internal' },
          { interface: 'admin', url: 'http://n-admin' },
          { interface: 'public' },
          null,
        ],
      },
    ]);
    assert.deepEqual(catalog, [
      {
        type: 'network',
        name: 'neutron',
        endpoints: [
          { interface: 'public', region: 'RegionOne', url: 'http://n-public' },
          { interface: 'internal', region: 'RegionTwo', url: 'http://n-internal' },
          { interface: 'admin', region: undefined, url: 'http://n-admin' },
        ],
      },
    ]);
  });
});

describe('findEndpoint', () => {
  it('looks up endpoints without a region in the first region that has the interface', () => {
    const catalog = [
      {
        type: 'network',
        name: 'neutron',
        endpoints: [
          { interface: 'admin', region: 'A', url: 'http://a-admin' },
          { interface: 'public', region: 'B', url: 'http://b-public' },
        ],
      },
    ];
    assert.equal(
      findEndpoint(catalog, { serviceType: 'network', regionName: undefined, interface: 'public' }),
      'http://b-public',
    );
  });

  it('names what the catalog has when nothing matches, as OPENSTACK_AUTH', () => {
    const catalog = [
      { type: 'compute', name: undefined, endpoints: [{ interface: 'internal', region: undefined, url: 'http://c' }] },
    ];
    const failures = [
      () => findEndpoint(catalog, { serviceType: 'compute', regionName: undefined, interface: 'public' }),
      () => findEndpoint([], { serviceType: 'network', regionName: 'RegionOne', interface: 'public' }),
    ].map((lookup) => {
      try {
        lookup();
      } catch (err) {
        assert.ok(err instanceof ExporterError);
        return `${err.code} ${err.message}`;
      }
      return 'found';
    });
    assert.deepEqual(failures, [
      "OPENSTACK_AUTH the token's catalog has no compute endpoint for any region and interface public (it has: (no region) internal)",
      "OPENSTACK_AUTH the token's catalog has no network service (it has: nothing)",
    ]);
  });
});
