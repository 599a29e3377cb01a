import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TORTURE, TORTURE_DIR } from '../../../support/torture.ts';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../../signaling/sip/message/parse.ts';
import { serializeMessage } from '../../../../signaling/sip/message/serialize.ts';

describe('RFC 4475 torture messages through the parser', () => {
  it('has every fixture', () => {
    expect(TORTURE.length).toBeGreaterThanOrEqual(45);
  });

  it.each(TORTURE.map((c) => [c.file, c] as const))('%s', (_name, c) => {
    const bytes = readFileSync(path.join(TORTURE_DIR, c.file));
    const r = parseMessage(bytes);
    if (c.valid === true) {
      expect(r.ok, r.ok ? '' : `${r.status} ${r.reason}`).toBe(true);
      if (r.ok) {
        expect(r.message.kind).toBe(c.kind);
        // What parses serializes and parses again to the same message.
        const again = parseMessage(serializeMessage(r.message));
        const noLength = (m: typeof r.message) => ({ ...m, headers: m.headers.filter((h) => h.name !== 'content-length') });
        expect(again.ok && noLength(again.message)).toEqual(noLength(r.message));
      }
    } else if (c.valid === false) {
      expect(r.ok).toBe(false);
      if (!r.ok && c.kind === 'request') expect([400, 413, 416, 505]).toContain(r.status);
    }
  });

  it('answers the version and scheme faults with their own status codes', () => {
    const status = (f: string): number | undefined => {
      const r = parseMessage(readFileSync(path.join(TORTURE_DIR, f)));
      return r.ok ? undefined : r.status;
    };
    expect(status('badvers.dat')).toBe(505);
    expect(status('unkscm.dat')).toBe(416);
    expect(status('novelsc.dat')).toBe(416);
    expect(status('escruri.dat')).toBe(400);
  });
});
