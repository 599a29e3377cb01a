import dns from 'node:dns';
import { isIP } from 'node:net';
import { afterAll, afterEach } from 'vitest';

/**
 * Loaded before every test file (vitest setupFiles): no test may resolve a name through the
 * machine's resolver. getaddrinfo (dns.lookup — what net, tls, dgram, http and fetch use by
 * default) and the c-ares functions at the system's servers are wrapped: an IP literal passes,
 * a node:dns Resolver whose servers are all on loopback (a test's own DNS server) passes, and
 * anything else fails like NXDOMAIN without a query — and fails the test that caused it.
 */
const violations: string[] = [];

/** The lookups refused since the last call (a test that provokes one on purpose takes it here). */
export function takeSystemDnsViolations(): string[] {
  return violations.splice(0, violations.length);
}

function refused(what: string): NodeJS.ErrnoException {
  violations.push(what);
  const err: NodeJS.ErrnoException = new Error(`${what}: tests may not use the machine's resolver (use an IP literal or an injected resolver)`);
  err.code = 'ENOTFOUND';
  return err;
}

type Callback = (err: NodeJS.ErrnoException | null, ...rest: unknown[]) => void;

const loopbackOnly = (servers: readonly string[]): boolean => servers.length > 0 && servers.every((s) => /^(127\.\d+\.\d+\.\d+(:\d+)?|::1|\[::1\]:\d+)$/.test(s));

const lookup = dns.lookup.bind(dns);
(dns as { lookup: unknown }).lookup = function guardedLookup(hostname: string, options: unknown, callback?: Callback): void {
  const cb = (typeof options === 'function' ? options : callback) as Callback;
  if (typeof hostname === 'string' && isIP(hostname) !== 0) return void (lookup as (...a: unknown[]) => void)(hostname, options, callback);
  const err = refused(`dns.lookup(${String(hostname)})`);
  process.nextTick(() => cb(err, undefined, 0));
};
const promisesLookup = dns.promises.lookup.bind(dns.promises);
(dns.promises as { lookup: unknown }).lookup = (hostname: string, options?: dns.LookupOptions): Promise<unknown> =>
  isIP(hostname) !== 0 ? promisesLookup(hostname, options ?? {}) : Promise.reject(refused(`dns.promises.lookup(${hostname})`));

const METHODS = ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCaa', 'resolveCname', 'resolveMx', 'resolveNaptr', 'resolveNs', 'resolvePtr', 'resolveSoa', 'resolveSrv', 'resolveTxt', 'reverse'] as const;

// Module-level functions ask the default resolver: the system's servers.
for (const m of METHODS) {
  (dns as unknown as Record<string, unknown>)[m] = (name: unknown, ...rest: unknown[]): void => {
    const cb = rest[rest.length - 1] as Callback;
    const err = refused(`dns.${m}(${String(name)})`);
    process.nextTick(() => cb(err));
  };
  (dns.promises as unknown as Record<string, unknown>)[m] = (name: unknown): Promise<never> => Promise.reject(refused(`dns.promises.${m}(${String(name)})`));
}

// Resolver instances pass when every server they ask is on loopback.
for (const proto of [dns.Resolver.prototype, dns.promises.Resolver.prototype] as unknown as Record<string, unknown>[]) {
  for (const m of METHODS) {
    const original = proto[m] as (...a: unknown[]) => unknown;
    proto[m] = function guarded(this: { getServers(): string[] }, name: unknown, ...rest: unknown[]): unknown {
      if (loopbackOnly(this.getServers())) return original.call(this, name, ...rest);
      const err = refused(`Resolver.${m}(${String(name)}) at ${this.getServers().join(',')}`);
      const cb = rest[rest.length - 1];
      if (typeof cb === 'function') return void process.nextTick(() => (cb as Callback)(err));
      return Promise.reject(err);
    };
  }
}

function check(): void {
  const seen = takeSystemDnsViolations();
  if (seen.length > 0) throw new Error(`the machine's resolver was asked: ${[...new Set(seen)].join('; ')}`);
}
afterEach(check);
afterAll(check);
