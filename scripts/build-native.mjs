/* global process, console */
// Builds Carillon's native RTP mover (media/native, N-API) with the node-gyp that ships with npm.
// Runs as the package's install step, so `npm ci` builds it. If the build fails the server still
// runs (media then moves through Node sockets), and the media tests say so.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const gyp =
  process.env.npm_config_node_gyp ??
  (process.env.npm_execpath === undefined ? 'node-gyp' : path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
const args = gyp.endsWith('.js') ? [gyp, 'rebuild', '--directory', path.join(root, 'media', 'native')] : ['rebuild', '--directory', path.join(root, 'media', 'native')];
const r = spawnSync(gyp.endsWith('.js') ? process.execPath : gyp, args, { stdio: 'inherit' });
if (r.status !== 0) console.error('carillon: the native RTP mover did not build; media will move through Node sockets');
