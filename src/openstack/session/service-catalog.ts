/** The service catalog a Keystone token carries, and the endpoint lookup in it (pure). */
import type { OpenStackInterface } from '../../config/schema.ts';
import { ExporterError } from '../../errors.ts';
import { isPlainObject } from '../../validation/describe.ts';

export interface CatalogEndpoint {
  readonly interface: string;
  readonly region: string | undefined;
  readonly url: string;
}

export interface CatalogService {
  readonly type: string;
  readonly name: string | undefined;
  readonly endpoints: readonly CatalogEndpoint[];
}

export interface EndpointWanted {
  readonly serviceType: string;
  /** Undefined: the first region that has the interface. */
  readonly regionName: string | undefined;
  readonly interface: OpenStackInterface;
}

/** Unusable entries are skipped, not fatal: a cloud may list services we never ask for. */
export function parseCatalog(raw: readonly unknown[]): CatalogService[] {
  return raw.filter(isPlainObject).flatMap((entry) => {
    if (typeof entry['type'] !== 'string' || !Array.isArray(entry['endpoints'])) return [];
    const endpoints = entry['endpoints'].filter(isPlainObject).flatMap((endpoint): CatalogEndpoint[] => {
      if (typeof endpoint['url'] !== 'string' || typeof endpoint['interface'] !== 'string') return [];
      // region_id is the Keystone v3 name; region is its deprecated twin, still all some clouds send.
      const region =
        typeof endpoint['region_id'] === 'string'
          ? endpoint['region_id']
          : typeof endpoint['region'] === 'string'
            ? endpoint['region']
            : undefined;
      return [{ interface: endpoint['interface'], region, url: endpoint['url'] }];
    });
    return [{ type: entry['type'], name: typeof entry['name'] === 'string' ? entry['name'] : undefined, endpoints }];
  });
}

export function findEndpoint(catalog: readonly CatalogService[], wanted: EndpointWanted): string {
  const services = catalog.filter((service) => service.type === wanted.serviceType);
  if (services.length === 0) {
    const types = [...new Set(catalog.map((service) => service.type))].join(', ');
    throw new ExporterError(
      'OPENSTACK_AUTH',
      `the token's catalog has no ${wanted.serviceType} service (it has: ${types || 'nothing'})`,
    );
  }
  const endpoints = services.flatMap((service) => service.endpoints);
  const match = endpoints.find(
    (endpoint) =>
      endpoint.interface === wanted.interface &&
      (wanted.regionName === undefined || endpoint.region === wanted.regionName),
  );
  if (match) return match.url;
  const region = wanted.regionName === undefined ? 'any region' : `region ${wanted.regionName}`;
  const available = endpoints.map((endpoint) => `${endpoint.region ?? '(no region)'} ${endpoint.interface}`).join(', ');
  throw new ExporterError(
    'OPENSTACK_AUTH',
    `the token's catalog has no ${wanted.serviceType} endpoint for ${region} and interface ${wanted.interface} (it has: ${available || 'none'})`,
  );
}
