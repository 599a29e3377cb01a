#!/usr/bin/env node
/* global URL */
// The `carillon` command. Runs the compiled CLI when the package was built (`npm run build`,
// as the Docker image is), else the TypeScript sources through tsx's loader registered in this
// same process — one process, so a service manager's SIGTERM reaches the server itself.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/cli/carillon.js', import.meta.url);
if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../cli/carillon.ts', import.meta.url).href);
}
