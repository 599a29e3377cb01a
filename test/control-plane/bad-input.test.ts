import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChimeApi } from '../support/chime-api.ts';
import type { ChimeApiUnderTest } from '../support/chime-api.ts';

/** Random and malformed input to write routes: always a Chime 4xx with a type, never a 5xx. */
describe('bad input to the API', () => {
  let api: ChimeApiUnderTest;
  beforeAll(async () => {
    api = await startChimeApi('sqlite', { rateLimit: { perSec: 10_000, burst: 10_000 } });
  });
  afterAll(async () => {
    await api.close();
  });

  const routes: [string, string][] = [
    ['POST', '/voice-connectors'],
    ['PUT', '/voice-connectors/abc/termination'],
    ['PUT', '/voice-connectors/abc/origination'],
    ['POST', '/voice-connector-groups'],
    ['POST', '/phone-number-orders'],
    ['POST', '/phone-numbers?operation=batch-update'],
    ['POST', '/tags?operation=tag-resource'],
    ['POST', '/carillon/v1/phone-number-inventory'],
    ['POST', '/chime/accounts'],
    ['POST', '/emergency-calling/address'],
  ];

  it('answers random JSON bodies with a typed 4xx (or success), never a server error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.jsonValue({ maxDepth: 3 }), async ([method, path], body) => {
        const res = await api.signedFetch(method, path, body);
        expect(res.status, `${method} ${path} ${JSON.stringify(body).slice(0, 80)}`).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.headers.get('x-amzn-errortype')).toMatch(/Exception$/);
          expect(await res.json()).toMatchObject({ Code: expect.any(String), Message: expect.any(String) });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers a body that is not JSON with BadRequestException', async () => {
    const res = await fetch(`${api.endpoint}/voice-connectors`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"Name": ' });
    // Unsigned and unparseable: refused before anything runs, with a Chime error either way.
    expect([400, 403]).toContain(res.status);
    expect(res.headers.get('x-amzn-errortype')).toMatch(/Exception$/);
  });
});
