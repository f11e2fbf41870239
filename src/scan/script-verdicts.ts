/**
 * What the safe scripts' output says about authentication. Each of redis-info, mongodb-info and
 * memcached-info asks its service for its own status, which a service that requires credentials refuses:
 * the script then prints an error (or nothing at all). So a script output that carries the service's
 * answer, and no refusal, means anyone can read the service. Pure, over nmap's text output of each script.
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
