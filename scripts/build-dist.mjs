/* global process, console */
// Compiles Carillon for running without the TypeScript loader: `node scripts/build-dist.mjs [OUT]`
// (default ./dist) writes the compiled sources and the native RTP mover (built by `npm ci`) under
// OUT, where bin/carillon.js finds them, with the IVR prompts beside the code that reads them. The Docker image's build stage runs exactly this.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'dist'));
rmSync(out, { recursive: true, force: true });
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
const native = path.join(root, 'media', 'native', 'build');
if (existsSync(native)) cpSync(native, path.join(out, 'media', 'native', 'build'), { recursive: true });
else console.error('carillon: the native RTP mover is not built (npm ci builds it); the compiled server moves media through Node sockets');
// The IVR's prompts (media/prompts/<lang>/*.wav and tones) are read next to the code that loads them.
const prompts = path.join(root, 'media', 'prompts');
cpSync(prompts, path.join(out, 'media', 'prompts'), { recursive: true, filter: (src) => !src.endsWith('.ts') });
console.log(`carillon: compiled into ${out}`);
