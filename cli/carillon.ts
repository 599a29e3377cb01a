#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CarillonError } from '../common/errors.ts';
import { ConfigSchema, configFromEnv, configFromFlags, FLAG_KEYS, readConfigFile, resolveConfig } from './config.ts';
import { numbersCommand } from './numbers.ts';
import { createServer } from './server.ts';

/**
 * `carillon serve` options, written from the configuration schema (one declaration: a flag added
 * there shows up here with its default and meaning).
 */
function optionLines(): string {
  const props = ConfigSchema.properties as Record<string, { description?: string; default?: unknown }>;
  const lines: string[] = [];
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const p = props[key];
    const arg = key === 'rtpRange' ? 'LOW-HIGH' : typeof p?.default === 'number' || key === 'mediaWorkers' ? 'N' : 'VALUE';
    const dflt = p?.default === undefined ? '' : ` (default ${String(p.default)})`;
    lines.push(`  --${`${flag} ${arg}`.padEnd(24)}${p?.description ?? ''}${dflt}`);
  }
  lines.push(`  --${'config FILE'.padEnd(24)}YAML/JSON file with the same keys in camelCase, plus sip, media, streaming and routes`);
  return lines.join('\n');
}

const USAGE = `usage: carillon serve [options]
       carillon numbers import FILE.csv --data DIR [--db URL]   (header PhoneNumber,Type,Country,State,City)
       carillon --help

${optionLines()}

Every flag has an environment twin: --sip-udp → CARILLON_SIP_UDP. Ports: 0 = any free port, -1 = off.
The first admin key comes from CARILLON_ACCESS_KEY_ID / CARILLON_SECRET_ACCESS_KEY, or is generated
into <data>/admin-credentials.json.`;

/** Longest a SIGTERM shutdown may take before the process exits anyway. */
const SHUTDOWN_LIMIT_MS = 10_000;

/** A command-line mistake: one line naming it, and where to look. */
class UsageError extends Error {}

/**
 * `--sip-tls -1` (a negative number after a flag that takes a value) is the flag's value, not
 * another flag: joined as `--sip-tls=-1` before node:util parseArgs, which would refuse it.
 */
function joinNegativeValues(argv: readonly string[], valued: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && valued.has(a.slice(2)) && next !== undefined && /^-\d+$/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function parseServeFlags(argv: readonly string[]): Record<string, string | undefined> {
  const options: Record<string, { type: 'string' }> = { config: { type: 'string' } };
  for (const flag of Object.keys(FLAG_KEYS)) options[flag] = { type: 'string' };
  try {
    const { values } = parseArgs({ args: joinNegativeValues(argv, new Set(Object.keys(options))), options, allowPositionals: false, strict: true });
    return values;
  } catch (err) {
    // node:util names the fault ("Unknown option '--role'", "Option '--api <value>' argument missing").
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new UsageError(`${why?.replace(/\. To specify.*$/, '') ?? 'bad arguments'} (see carillon --help)`);
  }
}

async function serve(argv: readonly string[]): Promise<void> {
  const values = parseServeFlags(argv);
  const configPath = values.config ?? process.env.CARILLON_CONFIG;
  const file = configPath === undefined ? {} : readConfigFile(configPath);
  const cfg = resolveConfig(file, configFromEnv(process.env), configFromFlags(values));
  const server = createServer(cfg);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => {
      process.stderr.write(`carillon: shutdown exceeded ${SHUTDOWN_LIMIT_MS} ms after ${signal}, exiting\n`);
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`carillon: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  // A rejected promise nobody handled is a bug to log and count, not a reason to drop every call.
  process.on('unhandledRejection', (reason) => server.reportInternalError(reason));
  // Listening for the signals before start: a service manager's SIGTERM during start-up stops it too.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const ports = await server.start();
  process.stdout.write(`carillon ports ${JSON.stringify(ports)}\n`);
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve':
      if (rest.includes('--help') || rest.includes('-h')) return void process.stdout.write(`${USAGE}\n`);
      await serve(rest);
      return;
    case 'numbers':
      await numbersCommand(rest);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      throw new UsageError(`unknown command '${command}' (see carillon --help)`);
  }
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`carillon: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof CarillonError) process.stderr.write(`carillon: ${err.message}\n`);
  else process.stderr.write(`carillon: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
