import type { IpFamily } from '../net/addresses.ts';

/** The addresses one scan covers, read on demand: with sharding, counting or listing them hashes every address. */
export interface ScanTargets {
  count(): number;
  countFamily(family: IpFamily): number;
  /** Takes canonical text; nmap's output may name no address outside these. */
  contains(address: string): boolean;
  nmapTargets(family: IpFamily): Generator<string>;
}
