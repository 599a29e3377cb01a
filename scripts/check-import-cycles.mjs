#!/usr/bin/env node
/**
 * Fails when the source's import graph has a circle. Every `import … from`, `export … from` and
 * `import('…')` of a relative .ts path counts, type-only ones too (a type circle is still two
 * modules that cannot be understood, tested or replaced one without the other). Prints each
 * circle found (one per strongly connected component, as a path that closes on itself).
 *
 * Usage: node scripts/check-import-cycles.mjs [root]   (exit 1 when a circle is found)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import console from 'node:console';

/** The folders whose .ts files make up the product's source. */
export const SOURCE_DIRS = ['common', 'signaling', 'media', 'metrics', 'control-plane', 'cli'];

/**
 * Circles tolerated, each as the exact set of files in it: none.
 */
export const ALLOWED_CYCLES = [];

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === 'node_modules' || e === 'build' || e.startsWith('.')) continue;
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Removes comments so that an import quoted in a comment is not taken for one. */
function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** The import graph of the files under `root`'s source folders: file → files it imports (paths relative to root). */
export function importGraph(root) {
  const files = SOURCE_DIRS.flatMap((d) => walk(path.join(root, d), []));
  const known = new Set(files.map((f) => path.relative(root, f)));
  const graph = new Map();
  for (const f of files) {
    const from = path.relative(root, f);
    const deps = new Set();
    const text = stripComments(readFileSync(f, 'utf8'));
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec === undefined || !spec.startsWith('.')) continue;
      const to = path.relative(root, path.resolve(path.dirname(f), spec));
      if (known.has(to)) deps.add(to);
    }
    graph.set(from, [...deps].sort());
  }
  return graph;
}

/** Strongly connected components with more than one file (or a file importing itself), Tarjan's algorithm. */
export function circles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

/** One path around a component, from its first file back to it. */
export function pathAround(graph, comp) {
  const inComp = new Set(comp);
  const start = comp[0];
  const seen = new Set([start]);
  const walkFrom = (v, trail) => {
    for (const w of graph.get(v) ?? []) {
      if (!inComp.has(w)) continue;
      if (w === start) return [...trail, w];
      if (seen.has(w)) continue;
      seen.add(w);
      const found = walkFrom(w, [...trail, w]);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return walkFrom(start, [start]) ?? comp;
}

function allowed(comp) {
  return ALLOWED_CYCLES.some((a) => a.length === comp.length && a.every((f) => comp.includes(f)));
}

/** The circles that are not allowed, each as a closed path. */
export function forbiddenCircles(root) {
  const graph = importGraph(root);
  return circles(graph)
    .filter((c) => !allowed(c))
    .map((c) => pathAround(graph, c));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = path.resolve(process.argv[2] ?? '.');
  const found = forbiddenCircles(root);
  for (const c of found) console.error(`import circle: ${c.join(' → ')}`);
  if (found.length > 0) {
    console.error(`${found.length} import circle(s) in the source; break each (move the shared part to its own module).`);
    process.exit(1);
  }
  console.log(`no import circles (${importGraph(root).size} source files)`);
}
