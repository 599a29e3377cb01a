#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CarillonError } from '../common/errors.ts';
import { configFromEnv, configFromFlags, FLAG_KEYS, readConfigFile, resolveConfig } from './config.ts';
import { numbersCommand } from './numbers.ts';
import { createServer } from './server.ts';

const USAGE = `usage: carillon serve [options]
       carillon numbers import FILE.csv --data DIR [--db URL]   (header PhoneNumber,Type,Country,State,City)

  --data DIR            data directory (default ./data)
  --bind ADDR           listen address (default 0.0.0.0)
  --advertise ADDR      address written into Via/Contact
  --sip-udp PORT        SIP over UDP (default 5060; 0 = any free port; -1 = off)
  --sip-tcp PORT        SIP over TCP (default 5060)
  --sip-tls PORT        SIP over TLS (default 5061)
  --h323 PORT           H.323 call signaling (default 1720)
  --api PORT            HTTP API, /healthz, /readyz, /metrics (default 8080)
  --rtp-range LOW-HIGH  RTP port range (default 10000-60000)
  --domain NAME         meeting and voice connector domain
  --media-workers N     media worker threads (default cores - 1)
  --db URL              sqlite path or postgres:// URL
  --tls-cert FILE       PEM certificate (self-signed pair made in <data>/tls when absent)
  --tls-key FILE        PEM private key
  --cdr-bucket NAME     S3 bucket for CDRs (spooled in <data>/cdrs until stored)
  --s3-endpoint URL     S3-compatible endpoint for --cdr-bucket (path-style)
  --config FILE         YAML/JSON file with the same keys plus routes
  --log-level LEVEL     fatal|error|warn|info|debug|trace|silent

Every flag has an environment twin: --sip-udp → CARILLON_SIP_UDP.`;

/** Longest a SIGTERM shutdown may take before the process exits anyway. */
const SHUTDOWN_LIMIT_MS = 10_000;

async function serve(argv: string[]): Promise<void> {
  const options: Record<string, { type: 'string' }> = { config: { type: 'string' } };
  for (const flag of Object.keys(FLAG_KEYS)) options[flag] = { type: 'string' };
  const { values } = parseArgs({ args: argv, options, allowPositionals: false, strict: true });
  const configPath = values.config ?? process.env.CARILLON_CONFIG;
  const file = configPath === undefined ? {} : readConfigFile(configPath);
  const cfg = resolveConfig(file, configFromEnv(process.env), configFromFlags(values));
  const server = createServer(cfg);
  const ports = await server.start();
  process.stdout.write(`carillon ports ${JSON.stringify(ports)}\n`);
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
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'serve':
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
      process.stderr.write(`carillon: unknown command '${command}'\n${USAGE}\n`);
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  if (err instanceof CarillonError) process.stderr.write(`carillon: ${err.message}\n`);
  else process.stderr.write(`carillon: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
