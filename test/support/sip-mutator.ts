/**
 * A structure-aware mutation fuzzer for SIP: valid INVITE (with SDP), OPTIONS and REGISTER
 * requests, and the answers a callee gives, mutated at every level a peer controls — header
 * values swapped for hostile ones (ports 0 and above 65535, rport/received/maddr, host names,
 * NULs, huge numbers), headers duplicated, dropped or reordered, Request-URI escapes and schemes,
 * SDP addresses, ports, RTCP ports and line counts, then bytes flipped, cut or inserted.
 * Deterministic for a seed, so a failure replays. Used by the suite (test/integration/fuzz-live)
 * and by load/fuzz-sip.ts.
 */

/** mulberry32: a small, fast, seeded PRNG (not for anything but test input). */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Where the fuzzing peer is, so that valid answers can reach it. */
export interface FuzzPeer {
  readonly transport: 'UDP' | 'TCP';
  readonly port: number;
  /** Request-URI user prefixes that Carillon routes on to a callee (exercises the B2BUA). */
  readonly routedNumber: string;
}

function sdp(rng: Rng, port: number): string[] {
  return [
    'v=0',
    `o=- ${rng.int(1e9)} 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0 8 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=sendrecv',
    `m=video ${port + 2} RTP/AVP 96`,
    'a=rtpmap:96 H264/90000',
    'a=rtcp-fb:96 nack pli',
  ];
}

interface Message {
  startLine: string;
  headers: [string, string][];
  body: string[];
}

function seedRequest(rng: Rng, peer: FuzzPeer, id: string): Message {
  const method = rng.pick(['INVITE', 'INVITE', 'INVITE', 'OPTIONS', 'REGISTER', 'BYE', 'CANCEL', 'ACK', 'INFO', 'UPDATE', 'PRACK']);
  const user = rng.chance(0.6) ? `${peer.routedNumber}${rng.int(10000)}` : rng.pick(['alice', '+442071838750', '1000']);
  const uri = method === 'REGISTER' ? 'sip:127.0.0.1' : method === 'OPTIONS' && rng.chance(0.5) ? 'sip:127.0.0.1' : `sip:${user}@127.0.0.1`;
  const host = `127.0.0.1:${peer.port}`;
  const headers: [string, string][] = [
    ['Via', `SIP/2.0/${peer.transport} ${host};branch=z9hG4bK${id};rport`],
    ['Max-Forwards', '70'],
    ['From', `"Fuzz" <sip:fuzz@127.0.0.1>;tag=f${id}`],
    ['To', rng.chance(0.2) ? `<${uri}>;tag=t${id}` : `<${uri}>`],
    ['Call-ID', `${id}@fuzz`],
    ['CSeq', `${1 + rng.int(5)} ${method}`],
    ['Contact', `<sip:fuzz@${host};transport=${peer.transport.toLowerCase()}>`],
    ['User-Agent', 'fuzz'],
  ];
  if (method === 'REGISTER') headers.push(['Expires', '3600']);
  if (method === 'INVITE' || method === 'UPDATE') headers.push(['Supported', 'timer, 100rel'], ['Session-Expires', '1800']);
  if (method === 'PRACK') headers.push(['RAck', '1 1 INVITE']);
  const body = method === 'INVITE' ? sdp(rng, 30000 + 4 * rng.int(5000)) : [];
  if (body.length > 0) headers.push(['Content-Type', 'application/sdp']);
  return { startLine: `${method} ${uri} SIP/2.0`, headers, body };
}

/** What a callee answers to an INVITE it received (Via, From, To, Call-ID, CSeq copied). */
function seedAnswer(rng: Rng, invite: string, calleePort: number): Message {
  const status = rng.pick([100, 180, 183, 200, 200, 200, 486, 503, 302]);
  const head = invite.split('\r\n\r\n')[0] ?? '';
  const headers: [string, string][] = [];
  for (const line of head.split('\r\n').slice(1)) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (m === null) continue;
    const name = (m[1] as string).toLowerCase();
    if (name === 'via' || name === 'from' || name === 'call-id' || name === 'cseq') headers.push([m[1] as string, m[2] as string]);
    if (name === 'to') headers.push(['To', /;tag=/.test(m[2] as string) ? (m[2] as string) : `${m[2] as string};tag=callee${rng.int(1000)}`]);
  }
  headers.push(['Contact', `<sip:callee@127.0.0.1:${calleePort}>`]);
  if (status === 302) headers.push(['Contact', `<sip:elsewhere@127.0.0.1:${calleePort}>`]);
  if (rng.chance(0.2)) headers.push(['Record-Route', `<sip:127.0.0.1:${calleePort};lr>`]);
  if (rng.chance(0.2)) headers.push(['Require', '100rel'], ['RSeq', String(1 + rng.int(3))]);
  const body = status === 183 || status === 200 ? sdp(rng, 31000 + 4 * rng.int(5000)) : [];
  if (body.length > 0) headers.push(['Content-Type', 'application/sdp']);
  return { startLine: `SIP/2.0 ${status} ${status === 200 ? 'OK' : 'Fuzz'}`, headers, body };
}

/** Hostile values by header (lower-case name); `*` applies to any header. */
const HOSTILE: Readonly<Record<string, readonly string[]>> = {
  via: [
    'SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bKz',
    'SIP/2.0/UDP 127.0.0.1:65536;branch=z9hG4bKz',
    'SIP/2.0/UDP 127.0.0.1:99999;branch=z9hG4bKz;rport=99999',
    'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKz;rport=0',
    'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKz;rport=-1',
    'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKz;received=evil.example;rport=5',
    'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKz;received=127.0.0.2',
    'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKz;maddr=224.0.0.1;ttl=300',
    'SIP/2.0/UDP evil.example:5060;branch=z9hG4bKz',
    'SIP/2.0/UDP [::1]:5060;branch=z9hG4bKz',
    'SIP/2.0/UDP [::1;branch=z9hG4bKz',
    'SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKz',
    'SIP/2.0/SCTP 127.0.0.1;branch=z9hG4bKz',
    'SIP/2.0/UDP 127.0.0.1;branch=',
    'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK' + 'x'.repeat(3000),
    'SIP/3.0/UDP 127.0.0.1;branch=z9hG4bKz',
  ],
  contact: ['<sip:x@127.0.0.1:0>', '<sip:x@127.0.0.1:65536>', '<sip:x@evil.example>', '<sip:x@[::1]:5060>', '*', '<sip:x@127.0.0.1:5060>;expires=-1', '<tel:+1>', '<mailto:x@y>', '<sip:@>', `<sip:${'a'.repeat(5000)}@127.0.0.1>`],
  route: ['<sip:127.0.0.1:0;lr>', '<sip:evil.example;lr>', '<sip:127.0.0.1:5060>', '<sip:[::1]:5060;lr>'],
  'record-route': ['<sip:127.0.0.1:0;lr>', '<sip:evil.example;lr>', '<sip:127.0.0.1:65535;lr>, <sip:127.0.0.1:1;lr>'],
  'call-id': ['a\u0000b', '', ' ', 'x'.repeat(300), 'a b', '\u00ff\u00fe', '@'],
  cseq: ['0 INVITE', '4294967296 INVITE', '-1 INVITE', '1 BYE', '1', 'x INVITE', '99999999999999999999 INVITE'],
  'max-forwards': ['0', '-1', 'abc', '99999999999', '1', ''],
  'content-length': ['0', '-1', '999999', '99999999999', 'abc', '5', '100000'],
  'content-type': ['application/sdp;charset=foo', 'multipart/mixed;boundary=x', 'text/plain', '', 'application/sdp\u0000'],
  'session-expires': ['0', '1', '89', '4294967296', 'abc;refresher=uac', '1800;refresher=nobody'],
  require: ['siprec', '100rel', 'timer', 'foo, bar', ''],
  to: ['<sip:x@127.0.0.1>;tag=', '<sip:x@127.0.0.1:0>', 'garbage', '"\\"" <sip:x@y>', '<sip:%00@127.0.0.1>'],
  from: ['<sip:x@127.0.0.1>', 'garbage', '<sip:anonymous@anonymous.invalid>;tag=1', '"A\u0001" <sip:a@b>;tag=1'],
  '*': ['', '\u0000', 'x'.repeat(70_000), '%', ';;;', ',,,', '<>', '"', '\\', '\u00ff'],
};

const EXTRA_HEADERS: readonly [string, string][] = [
  ['Max-Forwards', 'abc'],
  ['Content-Length', '0'],
  ['Call-ID', 'second@fuzz'],
  ['Proxy-Authorization', 'Digest username="x", realm="y", nonce="z", uri="sip:a@b", response="00", qop=auth, nc=zz'],
  ['Proxy-Authorization', 'Digest ' + 'a=b,'.repeat(2000)],
  ['Route', '<sip:127.0.0.1:0;lr>'],
  ['Record-Route', '<sip:127.0.0.1:0;lr>'],
  ['Require', 'siprec'],
  ['Expires', '999999999999'],
  ['RSeq', '0'],
  ['RAck', 'x y z'],
  ['Min-SE', '0'],
  ['Privacy', 'id'],
  ['P-Asserted-Identity', '<sip:+12065550100@127.0.0.1>'],
];

const URI_MUTATIONS: readonly ((uri: string) => string)[] = [
  (u) => u.replace(/sip:([^@]*)@/, (_m, user: string) => `sip:${encodeURIComponent(user).replace(/%2B/g, '%2b').replace(/\d/g, (d) => `%3${d}`)}@`),
  (u) => u.replace('127.0.0.1', '127.0.0.1:0'),
  (u) => u.replace('127.0.0.1', '127.0.0.1:65536'),
  (u) => u.replace('127.0.0.1', '[::1]'),
  (u) => u.replace('127.0.0.1', 'evil.example'),
  (u) => `${u};transport=sctp;maddr=224.0.0.1;lr`,
  (u) => `${u}?Route=%3Csip:127.0.0.1:0%3E`,
  (u) => u.replace('sip:', 'tel:'),
  (u) => u.replace('sip:', 'http:'),
  (u) => u.replace('sip:', 'sips:'),
  (u) => u.replace('@', '%00@'),
  (u) => u.replace('@', `${'9'.repeat(300)}@`),
  () => '*',
];

const SDP_MUTATIONS: readonly ((lines: string[], rng: Rng) => string[])[] = [
  (l) => l.map((x) => x.replace(/^c=IN IP4 .*/, 'c=IN IP4 media.example')),
  (l) => l.map((x) => x.replace(/^c=IN IP4 .*/, 'c=IN IP6 ::1')),
  (l) => l.map((x) => x.replace(/^c=IN IP4 .*/, 'c=IN IP4 0.0.0.0')),
  (l, r) => l.map((x) => x.replace(/^m=audio \d+/, `m=audio ${r.pick(['0', '1', '65535', '65536', '-1', '99999', 'x'])}`)),
  (l, r) => [...l, `a=rtcp:${r.pick(['0', '65536', '-5', 'x', '1'])}`],
  (l) => [...l, 'a=rtcp-mux'],
  (l, r) => {
    const extra: string[] = [];
    for (let i = 0, n = r.pick([17, 40, 250]); i < n; i++) extra.push(`m=audio ${20000 + 2 * i} RTP/AVP 0`);
    return [...l, ...extra];
  },
  (l) => [...l, 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:!!!!', 'a=crypto:x junk'],
  (l) => l.map((x) => x.replace('RTP/AVP', 'RTP/SAVP')),
  (l) => [...l, `a=fmtp:96 ${'x'.repeat(20_000)}`],
  (l) => l.filter((x) => !x.startsWith('c=')),
  (l) => l.map((x) => x.replace('a=sendrecv', 'a=inactive')),
  (l) => [...l, 'm=application 9 TCP/BFCP *', 'a=floorctrl:c-s'],
  (l, r) => l.slice(0, r.int(l.length)),
];

function mutateMessage(rng: Rng, m: Message): Message {
  const out: Message = { startLine: m.startLine, headers: m.headers.map(([n, v]) => [n, v]), body: [...m.body] };
  for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
    switch (rng.int(8)) {
      case 0:
      case 1: {
        // A header's value swapped for a hostile one.
        const i = rng.int(out.headers.length);
        const h = out.headers[i];
        if (h === undefined) break;
        const pool = HOSTILE[h[0].toLowerCase()] ?? HOSTILE['*'] ?? [];
        h[1] = rng.chance(0.8) ? rng.pick(pool) : rng.pick(HOSTILE['*'] ?? []);
        break;
      }
      case 2: {
        const i = rng.int(out.headers.length);
        const h = out.headers[i];
        if (h !== undefined) out.headers.splice(rng.int(out.headers.length + 1), 0, [h[0], h[1]]);
        break;
      }
      case 3:
        out.headers.splice(rng.int(out.headers.length), 1);
        break;
      case 4:
        out.headers.splice(rng.int(out.headers.length + 1), 0, [...rng.pick(EXTRA_HEADERS)]);
        break;
      case 5: {
        const parts = out.startLine.split(' ');
        if (parts.length === 3 && !out.startLine.startsWith('SIP/')) out.startLine = `${parts[0]} ${rng.pick(URI_MUTATIONS)(parts[1] ?? '')} ${parts[2]}`;
        else out.startLine = rng.pick(['SIP/2.0 99 X', 'SIP/2.0 700 X', 'SIP/2.0 200', 'SIP/1.0 200 OK', out.startLine]);
        break;
      }
      case 6:
        if (out.body.length > 0) out.body = rng.pick(SDP_MUTATIONS)(out.body, rng);
        break;
      default: {
        // Compact and odd header names, folding.
        const i = rng.int(out.headers.length);
        const h = out.headers[i];
        if (h === undefined) break;
        const compact: Record<string, string> = { via: 'v', from: 'f', to: 't', 'call-id': 'i', contact: 'm', 'content-length': 'l', 'content-type': 'c' };
        h[0] = rng.chance(0.5) ? (compact[h[0].toLowerCase()] ?? h[0].toUpperCase()) : `${h[0]} `;
        if (rng.chance(0.3)) h[1] = `${h[1]}\r\n\t${h[1]}`;
      }
    }
  }
  return out;
}

function serialize(m: Message, lengthLies: boolean, rng: Rng): Buffer {
  const body = m.body.length === 0 ? '' : `${m.body.join('\r\n')}\r\n`;
  const hasLength = m.headers.some(([n]) => /^(content-length|l)\s*$/i.test(n));
  const lines = [m.startLine, ...m.headers.map(([n, v]) => `${n}: ${v}`)];
  if (!hasLength) lines.push(`Content-Length: ${lengthLies ? rng.pick([0, 1, body.length + 10, 70_000]) : Buffer.byteLength(body, 'latin1')}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
}

/** Byte-level damage after the structure-level mutations. */
function damage(rng: Rng, b: Buffer): Buffer {
  switch (rng.int(6)) {
    case 0: {
      const out = Buffer.from(b);
      for (let i = 0, n = 1 + rng.int(8); i < n; i++) out[rng.int(out.length)] = rng.int(256);
      return out;
    }
    case 1:
      return b.subarray(0, rng.int(b.length + 1));
    case 2: {
      const at = rng.int(b.length + 1);
      const ins = Buffer.alloc(1 + rng.int(64));
      for (let i = 0; i < ins.length; i++) ins[i] = rng.int(256);
      return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
    }
    case 3:
      return Buffer.from(b.toString('latin1').replace(/\r\n/g, rng.chance(0.5) ? '\n' : '\r'), 'latin1');
    case 4: {
      const out = Buffer.alloc(rng.int(1500));
      for (let i = 0; i < out.length; i++) out[i] = rng.int(256);
      return out;
    }
    default:
      return b;
  }
}

/** Fuzz input generator: requests from the peer, and a callee's answers to the INVITEs it is sent. */
export class SipMutator {
  readonly rng: Rng;
  #n = 0;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  /** A request (10 % of them left valid, so calls get set up and torn down too). */
  request(peer: FuzzPeer): Buffer {
    const rng = this.rng;
    const id = `${(++this.#n).toString(36)}x${rng.int(1e9).toString(36)}`;
    const seed = seedRequest(rng, peer, id);
    if (rng.chance(0.1)) return serialize(seed, false, rng);
    const m = mutateMessage(rng, seed);
    const bytes = serialize(m, rng.chance(0.05), rng);
    return rng.chance(0.25) ? damage(rng, bytes) : bytes;
  }

  /** A callee's answer to an INVITE it received (half of them valid). */
  answer(invite: string, calleePort: number): Buffer {
    const rng = this.rng;
    const seed = seedAnswer(rng, invite, calleePort);
    if (rng.chance(0.5)) return serialize(seed, false, rng);
    const bytes = serialize(mutateMessage(rng, seed), rng.chance(0.05), rng);
    return rng.chance(0.2) ? damage(rng, bytes) : bytes;
  }
}
