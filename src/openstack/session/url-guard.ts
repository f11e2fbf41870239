/** Where a request with our token may go: only to the catalog endpoint it is for. */
import { ExporterError } from '../../errors.ts';

/** An absolute URL must stay on the endpoint's origin: a link in a body is no reason to give the token away. */
export function resolveRequestUrl(endpoint: string, pathOrUrl: string, serviceType: string): URL {
  const base = new URL(endpoint);
  if (!/^https?:\/\//i.test(pathOrUrl))
    return new URL(`${endpoint.replace(/\/+$/, '')}/${pathOrUrl.replace(/^\/+/, '')}`);
  const url = new URL(pathOrUrl);
  if (url.origin !== base.origin) {
    throw new ExporterError(
      'OPENSTACK_HTTP',
      `GET ${serviceType} ${url.origin}${url.pathname}: refusing a URL outside the ${serviceType} endpoint ${base.origin} (the token would go with it)`,
    );
  }
  return url;
}
