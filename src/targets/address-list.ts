// Targets given as single addresses: what a known-address cycle scans, built only by buildKnownTargets.
import { compareAddresses, formatAddress } from '../net/addresses.ts';
import type { IpFamily, ParsedAddress } from '../net/addresses.ts';
import type { ScanTargets } from './scan-targets.ts';

export class AddressListTargets implements ScanTargets {
  /** Canonical text, IPv4 before IPv6, ascending, no duplicates. */
  readonly addresses: readonly string[];
  readonly #byFamily: ReadonlyMap<IpFamily, readonly string[]>;
  readonly #set: ReadonlySet<string>;

  constructor(parsed: readonly ParsedAddress[]) {
    const sorted = [...parsed].sort(compareAddresses);
    const unique = sorted.filter(
      (address, index) => index === 0 || compareAddresses(sorted[index - 1]!, address) !== 0,
    );
    this.addresses = unique.map((address) => formatAddress(address.family, address.value));
    this.#set = new Set(this.addresses);
    this.#byFamily = new Map(
      ([4, 6] as const).map((family) => [
        family,
        unique.filter((a) => a.family === family).map((a) => formatAddress(family, a.value)),
      ]),
    );
  }

  count(): number {
    return this.addresses.length;
  }

  countFamily(family: IpFamily): number {
    return this.#byFamily.get(family)?.length ?? 0;
  }

  contains(address: string): boolean {
    return this.#set.has(address);
  }

  *nmapTargets(family: IpFamily): Generator<string> {
    yield* this.#byFamily.get(family) ?? [];
  }
}
