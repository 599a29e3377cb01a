import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BadRequestException, ChimeSDKVoiceClient, CreateVoiceConnectorCommand } from '@aws-sdk/client-chime-sdk-voice';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sha256, canonicalQuery, canonicalRequest, canonicalUri, headerValues, signatureOf, verifySigV4 } from '../../control-plane/api/sigv4.ts';
import type { SignedRequest, SigV4Failure } from '../../control-plane/api/sigv4.ts';
import { startChimeApi } from '../support/chime-api.ts';
import type { ChimeApiUnderTest } from '../support/chime-api.ts';

interface Vector {
  readonly name: string;
  readonly method: string;
  readonly url: string;
  readonly headers: string[];
  readonly body: string;
  readonly creq: string;
  readonly signature: string;
}
const SUITE = JSON.parse(readFileSync(path.join(import.meta.dirname, '../fixtures/sigv4/aws-test-suite.json'), 'utf8')) as {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  service: string;
  amzDate: string;
  vectors: Vector[];
};
const SUITE_NOW_MS = Date.parse('2015-08-30T12:36:00Z');
/** Vectors whose path is not in normal form: their canonical request is checked, but such a request is refused (it would route elsewhere than it signed). */
const NORMALIZING = new Set(['get-slash', 'get-slashes', 'get-relative-relative', 'get-slash-pointless-dot']);

const KEY = { accessKeyId: 'AKIACARILLONTEST0001', secretAccessKey: 'c2VjcmV0LWZvci10aGUtc2lndjQtdW5pdC10ZXN0' };
const secretFor = (akid: string): Promise<string | undefined> => Promise.resolve(akid === KEY.accessKeyId ? KEY.secretAccessKey : undefined);
const NOW_MS = Date.parse('2026-11-23T19:44:55Z');

const authorization = (v: Vector): string =>
  `AWS4-HMAC-SHA256 Credential=${SUITE.accessKeyId}/${SUITE.amzDate.slice(0, 8)}/${SUITE.region}/${SUITE.service}/aws4_request, SignedHeaders=${v.creq.split('\n').at(-2) ?? ''}, Signature=${v.signature}`;

async function failureOf(req: SignedRequest, nowMs = NOW_MS, service = 'chime'): Promise<SigV4Failure | 'ok'> {
  const r = await verifySigV4(req, secretFor, nowMs, service);
  return 'failure' in r ? r.failure : 'ok';
}

/** The JS SDK's query string (`@smithy/querystring-builder`): names and values escaped as `escapeUri`, arrays repeated. */
const escapeUri = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
function sdkQuery(query: Record<string, string | string[]>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) for (const one of Array.isArray(v) ? v : [v]) parts.push(`${escapeUri(k)}=${escapeUri(one)}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

/** A request as the official JS SDK signer signs it, in the shape the server receives it. */
async function sdkSigned(o: { method: string; path: string; query?: Record<string, string | string[]>; headers?: Record<string, string>; body?: Uint8Array; atMs?: number; applyChecksum?: boolean; service?: string }): Promise<SignedRequest> {
  const signer = new SignatureV4({ service: o.service ?? 'chime', region: 'eu-west-2', sha256: Sha256, uriEscapePath: true, applyChecksum: o.applyChecksum ?? true, credentials: KEY });
  const body = o.body ?? new Uint8Array(0);
  const signed = await signer.sign(
    { method: o.method, protocol: 'http:', hostname: '127.0.0.1', port: 8080, path: o.path, query: o.query ?? {}, headers: { host: '127.0.0.1:8080', ...(o.headers ?? {}) }, body },
    { signingDate: new Date(o.atMs ?? NOW_MS) },
  );
  return { method: o.method, url: `${o.path}${sdkQuery(o.query ?? {})}`, rawHeaders: Object.entries(signed.headers).flat(), body: Buffer.from(body) };
}

const withHeader = (req: SignedRequest, name: string, value: string): SignedRequest => {
  const raw = [...req.rawHeaders];
  const i = raw.findIndex((h, j) => j % 2 === 0 && h.toLowerCase() === name);
  if (i < 0) raw.push(name, value);
  else raw[i + 1] = value;
  return { ...req, rawHeaders: raw };
};

describe('SigV4 canonical request and signature (AWS test suite)', () => {
  for (const v of SUITE.vectors) {
    it(`${v.name}: canonical request and signature as published`, async () => {
      const signedHeaders = (v.creq.split('\n').at(-2) ?? '').split(';');
      const payloadHash = v.creq.split('\n').at(-1) ?? '';
      const creq = canonicalRequest({ method: v.method, url: v.url, headers: headerValues(v.headers), signedHeaders, payloadHash });
      expect(creq).toBe(v.creq);
      expect(signatureOf(SUITE.secretAccessKey, SUITE.amzDate, SUITE.region, SUITE.service, v.creq)).toBe(v.signature);
      const req = { method: v.method, url: v.url, rawHeaders: [...v.headers, 'Authorization', authorization(v)], body: v.body };
      const r = await verifySigV4(req, (k) => Promise.resolve(k === SUITE.accessKeyId ? SUITE.secretAccessKey : undefined), SUITE_NOW_MS, SUITE.service);
      expect(r).toEqual(NORMALIZING.has(v.name) ? { failure: 'path' } : { accessKeyId: SUITE.accessKeyId });
    });
  }

  it('encodes the already-encoded path once more, and decodes and re-encodes the query', () => {
    expect(canonicalUri('/voice-connectors/abc%2Bdef')).toBe('/voice-connectors/abc%252Bdef');
    expect(canonicalUri('/a b/~x!')).toBe('/a%20b/~x%21');
    expect(canonicalQuery('next-token=a%2F%2B%3D+b&max-results=5&type=phone-numbers')).toBe('max-results=5&next-token=a%2F%2B%3D%20b&type=phone-numbers');
    expect(canonicalQuery('b=2&a=&flag&&a=1')).toBe('a=&a=1&b=2&flag=');
    // Bytes that are not UTF-8 are signed as the bytes they are; a stray % is a literal %.
    expect(canonicalQuery('k=%FF%fe&p=100%')).toBe('k=%FF%FE&p=100%25');
  });
});

describe('SigV4 against botocore (Debian python3-botocore) as the oracle', () => {
  const ORACLE = String.raw`
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
a = json.load(sys.stdin)
out = []
for r in a['requests']:
    req = AWSRequest(method=r['method'], url='http://127.0.0.1:8080' + r['path'], params=r['params'], data=r['body'].encode(), headers=r['headers'])
    SigV4Auth(Credentials(a['key'], a['secret']), 'chime', 'us-west-2').add_auth(req)
    p = req.prepare()
    out.append({'url': p.url[len('http://127.0.0.1:8080'):], 'headers': [x for kv in p.headers.items() for x in kv]})
json.dump(out, sys.stdout)
`;
  const requests = [
    { method: 'GET', path: '/voice-connectors', params: {}, headers: {}, body: '' },
    { method: 'GET', path: '/search', params: { type: 'phone-numbers', 'area-code': '206', 'next-token': 'a/+= b~*' }, headers: {}, body: '' },
    { method: 'POST', path: '/voice-connectors', params: {}, headers: { 'Content-Type': 'application/json' }, body: '{"Name": "boto", "RequireEncryption": false}' },
    { method: 'PUT', path: '/voice-connectors/abc%2Bdef/termination', params: {}, headers: {}, body: '{"Termination": {"CidrAllowedList": ["10.1.2.3/32"]}}' },
    { method: 'DELETE', path: '/phone-numbers/%2B12065550100', params: { operation: 'x y' }, headers: { 'X-Custom': '  a   b  ' }, body: '' },
  ];
  let signed: { url: string; headers: string[] }[];
  beforeAll(() => {
    const out = execFileSync('/usr/bin/python3', ['-c', ORACLE], { input: JSON.stringify({ key: KEY.accessKeyId, secret: KEY.secretAccessKey, requests }), env: { PATH: '/usr/bin:/bin' } });
    signed = JSON.parse(out.toString('utf8')) as typeof signed;
  });

  it('accepts every request botocore signs (host;x-amz-date, no x-amz-content-sha256)', async () => {
    for (const [i, r] of requests.entries()) {
      const s = signed[i];
      if (s === undefined) throw new Error('oracle gave too few answers');
      const req = { method: r.method, url: s.url, rawHeaders: ['Host', '127.0.0.1:8080', ...s.headers], body: r.body };
      expect(await failureOf(req, Date.now()), `${r.method} ${s.url}`).toBe('ok');
      // A body of the same length with one field changed (the replay the signature must stop).
      if (r.body.length > 0) expect(await failureOf({ ...req, body: r.body.replace('10.1.2.3/32', '0.0.0.0/0  ').replace('boto', 'evil') }, Date.now())).toBe('signature');
    }
  });
});

describe('SigV4 verification refuses what was not signed', () => {
  const body = Buffer.from('{"Termination":{"CidrAllowedList":["10.1.2.3/32"]}}');
  const swapped = Buffer.from('{"Termination":{"CidrAllowedList":["0.0.0.0/0"  ]}}');
  const put = { method: 'PUT', path: '/voice-connectors/abc/termination', headers: { 'content-type': 'application/json' }, body };

  it('accepts the SDK-signed request as received', async () => {
    expect(swapped.length).toBe(body.length);
    expect(await failureOf(await sdkSigned(put))).toBe('ok');
  });

  it('refuses a replay with another body of the same length, whether or not x-amz-content-sha256 came with it', async () => {
    expect(await failureOf({ ...(await sdkSigned(put)), body: swapped })).toBe('body-hash');
    expect(await failureOf({ ...(await sdkSigned({ ...put, applyChecksum: false })), body: swapped })).toBe('signature');
  });

  it('refuses an x-amz-content-sha256 that is not the hash of the body (even an unsigned one, even UNSIGNED-PAYLOAD)', async () => {
    const req = await sdkSigned({ ...put, applyChecksum: false });
    expect(await failureOf(withHeader(req, 'x-amz-content-sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'))).toBe('body-hash');
    expect(await failureOf(withHeader(req, 'x-amz-content-sha256', 'UNSIGNED-PAYLOAD'))).toBe('body-hash');
  });

  it('ignores headers added after signing, refuses a signed header changed or removed', async () => {
    const req = await sdkSigned({ ...put, headers: { ...put.headers, 'x-amz-user-agent': 'aws-sdk-js/3' } });
    expect(await failureOf(withHeader(req, 'x-forwarded-for', '10.0.0.1'))).toBe('ok');
    expect(await failureOf(withHeader(req, 'x-amz-user-agent', 'aws-sdk-js/4'))).toBe('signature');
    expect(await failureOf(withHeader(req, 'content-type', 'text/plain'))).toBe('signature');
    const i = req.rawHeaders.indexOf('x-amz-user-agent');
    expect(await failureOf({ ...req, rawHeaders: req.rawHeaders.filter((_, j) => j !== i && j !== i + 1) })).toBe('signature');
    // Whitespace the canonical form folds away does not matter.
    expect(await failureOf(withHeader(req, 'x-amz-user-agent', '  aws-sdk-js/3 '))).toBe('ok');
  });

  it('refuses a changed method, path or query', async () => {
    const req = await sdkSigned({ method: 'GET', path: '/voice-connectors', query: { 'max-results': '5' } });
    expect(await failureOf(req)).toBe('ok');
    expect(await failureOf({ ...req, method: 'DELETE' })).toBe('signature');
    expect(await failureOf({ ...req, url: '/voice-connector-groups?max-results=5' })).toBe('signature');
    expect(await failureOf({ ...req, url: '/voice-connectors?max-results=6' })).toBe('signature');
    expect(await failureOf({ ...req, url: '/voice-connectors?max-results=5&x=1' })).toBe('signature');
    expect(await failureOf({ ...req, url: '/voice-connectors/./?max-results=5' })).toBe('path');
  });

  it('refuses a request signed more than 15 minutes before or after now, and a scope day that is not the request day', async () => {
    const req = await sdkSigned({ method: 'GET', path: '/voice-connectors' });
    expect(await failureOf(req, NOW_MS + 14 * 60_000)).toBe('ok');
    expect(await failureOf(req, NOW_MS + 16 * 60_000)).toBe('expired');
    expect(await failureOf(req, NOW_MS - 16 * 60_000)).toBe('expired');
    const auth = req.rawHeaders[req.rawHeaders.indexOf('authorization') + 1] ?? '';
    expect(await failureOf(withHeader(req, 'authorization', auth.replace('/20261123/', '/20261124/')))).toBe('scope-date');
  });

  it('refuses another service, an unknown key, a malformed Authorization', async () => {
    expect(await failureOf(await sdkSigned({ method: 'GET', path: '/', service: 's3' }))).toBe('service');
    const req = await sdkSigned({ method: 'GET', path: '/voice-connectors' });
    const auth = req.rawHeaders[req.rawHeaders.indexOf('authorization') + 1] ?? '';
    expect(await failureOf(withHeader(req, 'authorization', auth.replace(KEY.accessKeyId, 'AKIAUNKNOWN')))).toBe('unknown-key');
    expect(await failureOf({ ...req, rawHeaders: req.rawHeaders.slice(0, req.rawHeaders.indexOf('authorization')).concat(req.rawHeaders.slice(req.rawHeaders.indexOf('authorization') + 2)) })).toBe('missing');
    expect(await failureOf({ ...req, rawHeaders: [...req.rawHeaders, 'Authorization', auth] })).toBe('malformed');
    for (const bad of [
      auth.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512'),
      auth.replace('aws4_request', 'aws5_request'),
      auth.replace(/Signature=[0-9a-f]{64}/, 'Signature=abc'),
      auth.replace(/Signature=([0-9a-f]{64})/, (_, s: string) => `Signature=${s.toUpperCase()}`),
      auth.replace('SignedHeaders=', 'SignedHeaders=zzz;'),
      auth.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=x-amz-date'),
      auth.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=host'),
      `${auth}, Signature=${'0'.repeat(64)}`,
    ])
      expect(await failureOf(withHeader(req, 'authorization', bad)), bad).toBe('malformed');
    expect(await failureOf(withHeader(req, 'x-amz-date', '20261123T194455'))).toBe('malformed');
    expect(await failureOf(withHeader(req, 'x-amz-date', '20261131T194455Z'))).toBe('malformed');
  });

  it('takes the time from a signed date header in ISO 8601 basic form when there is no x-amz-date', async () => {
    const rawHeaders = ['Host', '127.0.0.1:8080', 'Date', '20261123T194455Z'];
    const creq = canonicalRequest({ method: 'GET', url: '/voice-connectors', headers: headerValues(rawHeaders), signedHeaders: ['date', 'host'], payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' }) ?? '';
    const sig = signatureOf(KEY.secretAccessKey, '20261123T194455Z', 'us-east-1', 'chime', creq);
    const auth = `AWS4-HMAC-SHA256 Credential=${KEY.accessKeyId}/20261123/us-east-1/chime/aws4_request, SignedHeaders=date;host, Signature=${sig}`;
    const req = { method: 'GET', url: '/voice-connectors', rawHeaders: [...rawHeaders, 'Authorization', auth], body: '' };
    expect(await failureOf(req)).toBe('ok');
    expect(await failureOf(withHeader(req, 'date', 'Mon, 23 Nov 2026 19:44:55 GMT'))).toBe('malformed');
    expect(await failureOf(withHeader(req, 'date', '20261123T194456Z'))).toBe('signature');
  });

  it('verifies any body, path and query the JS SDK signs, and refuses any single-byte change of the body', async () => {
    const segment = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }).filter((s) => s !== '.' && s !== '..').map(escapeUri);
    const value = fc.string({ maxLength: 16, unit: 'grapheme' });
    const headerValue = fc.string({ maxLength: 24, unit: fc.constantFrom(...' \tabcXYZ019-_;,="/'.split('')) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { maxLength: 5 }),
        fc.boolean(),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8, unit: 'grapheme' }), fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 3 })), { maxKeys: 4 }),
        headerValue,
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (segments, trailingSlash, query, custom, body, applyChecksum, at, delta) => {
          const p = `/${segments.join('/')}${trailingSlash && segments.length > 0 ? '/' : ''}`;
          const req = await sdkSigned({ method: 'POST', path: p, query, headers: { 'content-type': 'application/octet-stream', 'x-carillon-test': custom }, body, applyChecksum });
          expect(await failureOf(req)).toBe('ok');
          const changed = Buffer.from(body);
          const i = at % changed.length;
          changed[i] = ((changed[i] ?? 0) + delta) & 0xff;
          expect(await failureOf({ ...req, body: changed })).toBe(applyChecksum ? 'body-hash' : 'signature');
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('signed bodies over HTTP', () => {
  let api: ChimeApiUnderTest;
  let vcId: string;
  beforeAll(async () => {
    api = await startChimeApi('sqlite', { rateLimit: { perSec: 10_000, burst: 10_000 } });
    const res = await api.signedFetch('POST', '/voice-connectors', { Name: 'bodies', RequireEncryption: false });
    vcId = ((await res.json()) as { VoiceConnector: { VoiceConnectorId: string } }).VoiceConnector.VoiceConnectorId;
  });
  afterAll(async () => {
    await api.close();
  });

  /** Signs `signedBody` and sends `sentBody` under those headers. */
  async function replay(method: string, p: string, signedBody: string | Buffer, sentBody: string | Buffer, extra: Record<string, string> = { 'content-type': 'application/json' }): Promise<Response> {
    const url = new URL(`${api.endpoint}${p}`);
    const signer = new SignatureV4({ service: 'chime', region: 'us-east-1', sha256: Sha256, uriEscapePath: true, credentials: api.admin });
    const signed = await signer.sign({ method, protocol: 'http:', hostname: url.host, path: url.pathname, query: {}, headers: { host: url.host, ...extra }, body: signedBody });
    return fetch(url, { method, headers: signed.headers as Record<string, string>, body: sentBody });
  }

  it('refuses a captured termination replayed with another CIDR of the same length (403), and keeps the signed one', async () => {
    const signedBody = JSON.stringify({ Termination: { CallingRegions: ['US'], CidrAllowedList: ['10.1.2.3/32'] } });
    const evil = JSON.stringify({ Termination: { CallingRegions: ['US'], CidrAllowedList: ['0.0.0.0/0'] } }).replace('}', '  }');
    expect(evil.length).toBe(signedBody.length);
    expect((await replay('PUT', `/voice-connectors/${vcId}/termination`, signedBody, signedBody)).status).toBe(200);
    const res = await replay('PUT', `/voice-connectors/${vcId}/termination`, signedBody, evil);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
    expect(await (await api.signedFetch('GET', `/voice-connectors/${vcId}/termination`)).json()).toMatchObject({ Termination: { CidrAllowedList: ['10.1.2.3/32'] } });
  });

  it('reads a signed JSON body whatever its Content-Type, or none', async () => {
    const body = JSON.stringify({ Name: 'typed', RequireEncryption: false });
    for (const extra of [{}, { 'content-type': 'text/plain' }, { 'content-type': 'application/x-amz-json-1.1' }, { 'content-type': 'application/json; charset=utf-8' }]) {
      const res = await replay('POST', '/voice-connectors', body, body, extra);
      expect(res.status, JSON.stringify(extra)).toBe(201);
    }
  });

  it('authenticates before it parses: an unsigned bad body is 403, a signed one 400', async () => {
    const unsigned = await fetch(`${api.endpoint}/voice-connectors`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"Name": ' });
    expect(unsigned.status).toBe(403);
    const signed = await replay('POST', '/voice-connectors', '{"Name": ', '{"Name": ');
    expect(signed.status).toBe(400);
    expect(signed.headers.get('x-amzn-errortype')).toBe('BadRequestException');
    const notUtf8 = Buffer.from('{"Name": "\xff"}', 'latin1');
    const res = await replay('POST', '/voice-connectors', notUtf8, notUtf8);
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('BadRequestException');
  });

  it('answers a 10 MB body with 413, typed BadRequestException', async () => {
    const big = JSON.stringify({ Name: 'x'.repeat(10 * 1024 * 1024) });
    const res = await replay('POST', '/voice-connectors', big, big);
    expect(res.status).toBe(413);
    expect(res.headers.get('x-amzn-errortype')).toBe('BadRequestException');
    expect(await res.json()).toMatchObject({ Code: 'RequestEntityTooLarge' });
    // The official SDK (its default three attempts) reads it as the modeled exception, and does not retry it.
    const sdk = new ChimeSDKVoiceClient({ endpoint: api.endpoint, region: 'us-east-1', credentials: api.admin });
    const err = await sdk.send(new CreateVoiceConnectorCommand({ Name: 'x'.repeat(2 * 1024 * 1024), RequireEncryption: false })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestException);
    expect((err as BadRequestException).$metadata).toMatchObject({ httpStatusCode: 413, attempts: 1 });
  });
});
