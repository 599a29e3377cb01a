import { execFileSync } from 'node:child_process';

/**
 * A network namespace of the test's own: only `lo` and a veth pair whose both ends stay inside,
 * one of them carrying `address`/24 from 198.18.0.0/15 (the benchmarking range). Peers that put
 * the machine's own address in their SDP (baresip) run in here, so every packet stays inside.
 */
export interface TestNetns {
  readonly name: string;
  readonly address: string;
  readonly iface: string;
  /** argv prefix that runs a command inside the namespace. */
  exec(argv: readonly string[]): string[];
  destroy(): void;
}

let seq = 0;

export function createNetns(): TestNetns {
  const name = `carillon-t${process.pid}-${++seq}`;
  const octet = 1 + Math.floor(Math.random() * 250);
  const address = `198.18.${octet}.1`;
  const ip = (...args: string[]): void => {
    execFileSync('ip', args, { stdio: 'pipe' });
  };
  ip('netns', 'add', name);
  try {
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${address}/24`, 'dev', 'v0');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'v0', 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'v1', 'up');
  } catch (err) {
    ip('netns', 'del', name);
    throw err;
  }
  return {
    name,
    address,
    iface: 'v0',
    exec: (argv) => ['ip', 'netns', 'exec', name, ...argv],
    destroy() {
      try {
        ip('netns', 'del', name);
      } catch {
        // already gone
      }
    },
  };
}
