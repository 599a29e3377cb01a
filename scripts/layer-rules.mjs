/**
 * Carillon's layer boundaries as an ESLint rule (`carillon/layers`, wired in eslint.config.js):
 * each relative import, re-export or dynamic import of a source file is resolved to its path in
 * the repository and checked against the table below. No plugin dependency: the table is the
 * whole of it.
 */
import path from 'node:path';

/**
 * Each boundary: the files it covers (path prefixes from the repository root), files excepted,
 * the paths they may not import, and paths allowed despite that.
 */
export const LAYERS = [
  {
    name: 'common',
    files: ['common/'],
    forbid: ['signaling/', 'media/', 'metrics/', 'control-plane/', 'cli/'],
    message: 'common/ imports nothing of the project',
  },
  {
    name: 'sip-stack',
    files: ['signaling/sip/'],
    forbid: ['signaling/calls/', 'signaling/routing/', 'media/', 'control-plane/', 'metrics/', 'cli/'],
    message: 'the SIP stack imports no call layer, routing, media or control plane (shared types go in common/)',
  },
  {
    name: 'media',
    files: ['media/'],
    forbid: ['signaling/', 'control-plane/', 'metrics/', 'cli/'],
    message: 'media imports no signaling, control plane or metrics',
  },
  {
    name: 'routing',
    files: ['signaling/routing/'],
    forbid: ['control-plane/', 'signaling/calls/', 'signaling/sip/', 'metrics/', 'cli/'],
    message: 'routing imports no control plane (its configuration types live in common/), no call layer and no protocol stack',
  },
  {
    name: 'signaling-to-media',
    files: ['signaling/'],
    forbid: ['media/'],
    allow: ['media/engine.ts', 'media/protocol.ts'],
    message: 'signaling reaches media only through media/engine.ts and media/protocol.ts',
  },
  {
    name: 'signaling',
    files: ['signaling/'],
    forbid: ['control-plane/', 'metrics/', 'cli/'],
    message: 'signaling imports no control plane, metrics or cli (it reads common/config-snapshot.ts)',
  },
  {
    name: 'metrics',
    files: ['metrics/'],
    forbid: ['signaling/calls/call.ts', 'signaling/calls/trunk-calls.ts', 'signaling/calls/bridge.ts', 'signaling/calls/recording-call.ts', 'signaling/sip/'],
    message: 'metrics reads call summaries and events, never a live call, leg or the edge',
  },
  {
    name: 'cli',
    files: ['common/', 'signaling/', 'media/', 'metrics/', 'control-plane/'],
    forbid: ['cli/'],
    message: 'nothing imports cli/ (it only wires)',
  },
];

const under = (file, prefixes) => prefixes.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p));

/** The boundaries an import from `from` to `to` (paths from the repository root) breaks. */
export function brokenLayers(from, to) {
  return LAYERS.filter((l) => under(from, l.files) && !under(from, l.except ?? []) && under(to, l.forbid) && !under(to, l.allow ?? []));
}

/** The ESLint plugin; `root` is the repository root the paths are taken from. */
export function layersPlugin(root) {
  return {
    rules: {
      layers: {
        meta: { type: 'problem', docs: { description: "Carillon's layer boundaries between source folders" }, schema: [], messages: { broken: '{{to}}: {{message}} ({{name}})' } },
        create(context) {
          const from = path.relative(root, context.filename).split(path.sep).join('/');
          const check = (node, spec) => {
            if (typeof spec !== 'string' || !spec.startsWith('.')) return;
            const to = path.relative(root, path.resolve(path.dirname(context.filename), spec)).split(path.sep).join('/');
            for (const l of brokenLayers(from, to)) context.report({ node, messageId: 'broken', data: { to, message: l.message, name: l.name } });
          };
          return {
            ImportDeclaration: (n) => check(n, n.source.value),
            ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
            ExportAllDeclaration: (n) => check(n, n.source.value),
            ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
          };
        },
      },
    },
  };
}
