import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generate, readModules } from '../../scripts/asn1/generate.ts';

describe('the generated H.225.0/H.245/H.235 codecs', () => {
  it('are what the generator makes of the modules now (regenerating changes nothing)', () => {
    const out = generate(readModules());
    expect([...out.keys()].sort()).toEqual(['h225.ts', 'h235.ts', 'h245.ts']);
    for (const [file, text] of out) {
      expect(readFileSync(new URL(`../../signaling/h323/asn/${file}`, import.meta.url), 'utf8'), `${file} is stale: run npm run asn1`).toBe(text);
    }
  });
});
