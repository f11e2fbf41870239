// Basic auth against bcrypt hashes. A success is cached under a digest, so a scrape costs one SHA-256; a failure
// is never cached, so guessing pays bcrypt each time.
import { createHash, randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { bcryptCost } from './web-config.ts';

/** Compares a password with a bcrypt hash; injectable so tests count the calls. */
export type BcryptCompare = (password: string, hash: string) => Promise<boolean>;

export interface BasicAuthOptions {
  readonly users: ReadonlyMap<string, string>;
  readonly compare?: BcryptCompare;
  readonly cacheSize?: number;
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

const DEFAULT_CACHE_SIZE = 256;
const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export class BasicAuthChecker {
  readonly #users: ReadonlyMap<string, string>;
  readonly #compare: BcryptCompare;
  readonly #cacheSize: number;
  /** Digests of credentials that passed; a Map keeps insertion order, which makes eviction oldest-first. */
  readonly #passed = new Map<string, true>();
  /** What an unknown user is checked against, so that answering "no such user" takes as long as "wrong password". */
  readonly #dummyHash: string;

  constructor(options: BasicAuthOptions) {
    this.#users = options.users;
    this.#compare = options.compare ?? ((password, hash) => bcrypt.compare(password, hash));
    this.#cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    this.#dummyHash = makeDummyHash(Math.max(4, ...[...options.users.values()].map(bcryptCost)));
  }

  get enabled(): boolean {
    return this.#users.size > 0;
  }

  async check(credentials: Credentials | undefined): Promise<boolean> {
    if (!credentials) return false;
    const stored = this.#users.get(credentials.user);
    const hash = stored ?? this.#dummyHash;
    const key = cacheKey(credentials, hash);
    if (stored !== undefined && this.#passed.has(key)) return true;
    const matches = await this.#compare(credentials.password, hash);
    if (!matches || stored === undefined) return false;
    this.#remember(key);
    return true;
  }

  #remember(key: string): void {
    this.#passed.set(key, true);
    if (this.#passed.size <= this.#cacheSize) return;
    const oldest = this.#passed.keys().next();
    if (!oldest.done) this.#passed.delete(oldest.value);
  }
}

export function parseBasicAuthorization(header: string | undefined): Credentials | undefined {
  const match = /^basic +([A-Za-z0-9+/]+=*) *$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** One digest per (user, password, hash); the parts are length-prefixed so no two triples collide. */
function cacheKey(credentials: Credentials, hash: string): string {
  const digest = createHash('sha256');
  for (const part of [credentials.user, credentials.password, hash]) {
    const bytes = Buffer.from(part, 'utf8');
    digest.update(`${bytes.length}:`).update(bytes);
  }
  return digest.digest('hex');
}

/** Matches no password but costs full bcrypt; random characters, not a hash, so start-up does not pay bcrypt. */
function makeDummyHash(cost: number): string {
  const chars = [...randomBytes(53)].map((byte) => BCRYPT_ALPHABET[byte % BCRYPT_ALPHABET.length]).join('');
  return `$2b$${String(cost).padStart(2, '0')}$${chars}`;
}
