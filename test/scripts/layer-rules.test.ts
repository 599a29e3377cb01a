import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';
import { forbiddenCircles } from '../../scripts/check-import-cycles.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

/** The layer rule's findings for `code` as if it were the source file `file`. */
async function layerFindings(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'carillon/layers').map((m) => m.message);
}

describe('layer boundaries (eslint carillon/layers)', () => {
  it('refuses each forbidden import, whatever its form', async () => {
    const cases: [string, string, string][] = [
      ['common/layer-probe.ts', "import type { Call } from '../signaling/calls/call.ts';\nexport type X = Call;\n", 'common'],
      ['signaling/sip/ua/layer-probe.ts', "import { routeStatic } from '../../routing/static-routes.ts';\nexport const x = routeStatic;\n", 'sip-stack'],
      ['signaling/sip/layer-probe.ts', "export * from '../../media/engine.ts';\n", 'sip-stack'],
      ['media/layer-probe.ts', "export { TrunkCalls } from '../signaling/calls/trunk-calls.ts';\n", 'media'],
      ['signaling/routing/layer-probe.ts', "import { requestUriOf } from '../sip/resolve/hop-uri.ts';\nexport const y = requestUriOf;\n", 'routing'],
      ['signaling/routing/layer-probe.ts', "import type { ConfigSnapshots } from '../../control-plane/config-snapshot.ts';\nexport type X = ConfigSnapshots;\n", 'routing'],
      ['signaling/sdp/layer-probe.ts', "import { RelayPair } from '../../media/relay/relay-pair.ts';\nexport const x = RelayPair;\n", 'signaling-to-media'],
      ['signaling/auth/layer-probe.ts', "export const m = import('../../metrics/cdr.ts');\n", 'signaling'],
      ['metrics/layer-probe.ts', "import type { Call } from '../signaling/calls/call.ts';\nexport type X = Call;\n", 'metrics'],
      ['control-plane/layer-probe.ts', "import type { ServerConfig } from '../cli/config.ts';\nexport type X = ServerConfig;\n", 'cli'],
    ];
    for (const [file, code, layer] of cases) {
      const found = await layerFindings(file, code);
      expect(found.some((m) => m.endsWith(`(${layer})`)), `${file}: ${found.join(' | ')}`).toBe(true);
    }
  });

  it('lets the allowed imports through', async () => {
    expect(await layerFindings('signaling/sdp/layer-probe.ts', "import type { MediaControl } from '../../media/engine.ts';\nimport type { MediaEvent } from '../../media/protocol.ts';\nexport type X = MediaControl | MediaEvent;\n")).toEqual([]);
    expect(await layerFindings('signaling/routing/layer-probe.ts', "import type { ConfigSnapshot } from '../../common/config-snapshot.ts';\nimport type { NextHop } from '../../common/route.ts';\nexport type X = ConfigSnapshot | NextHop;\n")).toEqual([]);
    expect(await layerFindings('signaling/calls/layer-probe.ts', "import type { CallRouter } from '../routing/route.ts';\nimport type { CallLegControl } from '../../common/call-leg.ts';\nexport type X = CallRouter | CallLegControl;\n")).toEqual([]);
    expect(await layerFindings('metrics/layer-probe.ts', "import type { CallSummary } from '../signaling/calls/call-summary.ts';\nexport type X = CallSummary;\n")).toEqual([]);
  });
});

describe('import circles (scripts/check-import-cycles.mjs)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-cycles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a circle through type-only imports and re-exports, and none in the source', () => {
    mkdirSync(path.join(dir, 'common'), { recursive: true });
    mkdirSync(path.join(dir, 'signaling'), { recursive: true });
    writeFileSync(path.join(dir, 'common/a.ts'), "import type { B } from '../signaling/b.ts';\nexport type A = B;\n");
    writeFileSync(path.join(dir, 'signaling/b.ts'), "export type { C as B } from './c.ts';\n");
    writeFileSync(path.join(dir, 'signaling/c.ts'), "// import { nothing } from './d.ts';\nimport type { A } from '../common/a.ts';\nexport type C = A | number;\n");
    writeFileSync(path.join(dir, 'signaling/d.ts'), "import './c.ts';\n");
    expect(forbiddenCircles(dir)).toEqual([['common/a.ts', 'signaling/b.ts', 'signaling/c.ts', 'common/a.ts']]);
    expect(forbiddenCircles(root)).toEqual([]);
  });
});
