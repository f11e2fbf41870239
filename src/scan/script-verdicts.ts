/**
 * What the safe scripts' output says about authentication (pure): redis-info, mongodb-info and memcached-info
 * print the service's status only when it answered without credentials.
 */
import type { NmapScriptOutput } from './nmap-xml.ts';

/** The scripts whose answer proves the service needs no credentials. */
const STATUS_SCRIPTS = new Set(['redis-info', 'mongodb-info', 'memcached-info']);

/**
 * How the services (and the scripts, reporting them) word a refusal; memcached-info also reports the
 * server's own setting (`Authentication: yes` under SASL).
 */
const REFUSAL =
  /Authentication: yes|NOAUTH|auth(entication|orization)? (is )?required|unauthori[sz]ed|not authori[sz]ed|requires authentication|access denied|permission denied|ERROR/i;

export function answeredWithoutCredentials(scripts: readonly NmapScriptOutput[]): boolean {
  return scripts.some(
    (script) => STATUS_SCRIPTS.has(script.id) && script.output.trim() !== '' && !REFUSAL.test(script.output),
  );
}
