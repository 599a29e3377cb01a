import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { AddressFamily, AddressRecord, DnsAnswer, NaptrRecord, Resolver, SrvRecord } from '../../common/resolver.ts';

/**
 * DNS for tests, never the machine's: a table of records answered either in-process
 * (TableResolver, a Resolver) or on the wire by a tiny authoritative server on 127.0.0.1
 * (TestDnsServer, for node:dns's own Resolver pointed at it with setServers). Both log every
 * question they get, so a test can tell exactly which names were looked up.
 */
export type DnsTestRecord =
  | { readonly name: string; readonly type: 'A' | 'AAAA'; readonly address: string; readonly ttlSec?: number }
  | { readonly name: string; readonly type: 'SRV'; readonly priority: number; readonly weight: number; readonly port: number; readonly target: string; readonly ttlSec?: number }
  | {
      readonly name: string;
      readonly type: 'NAPTR';
      readonly order: number;
      readonly preference: number;
      readonly flags: string;
      readonly service: string;
      readonly regexp?: string;
      readonly replacement: string;
      readonly ttlSec?: number;
    };

export type DnsQuestionType = 'A' | 'AAAA' | 'SRV' | 'NAPTR';

export interface DnsQuestion {
  readonly type: DnsQuestionType;
  readonly name: string;
}

const norm = (name: string): string => (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();

/** The records of a table that answer a question; undefined when the name has no records at all (NXDOMAIN). */
function lookUp(table: readonly DnsTestRecord[], type: DnsQuestionType, name: string): DnsTestRecord[] | undefined {
  const n = norm(name);
  const named = table.filter((r) => norm(r.name) === n);
  if (named.length === 0) return undefined;
  return named.filter((r) => r.type === type);
}

/** A Resolver answering from a table only; every other name is not found, and nothing is sent anywhere. */
export class TableResolver implements Resolver {
  records: DnsTestRecord[];
  /** Every question asked, in order. */
  readonly questions: DnsQuestion[] = [];

  constructor(records: readonly DnsTestRecord[] = []) {
    this.records = [...records];
  }

  addresses(name: string, family: AddressFamily): Promise<DnsAnswer<AddressRecord>> {
    return this.#answer(family === 4 ? 'A' : 'AAAA', name, (r) => (r.type === 'A' || r.type === 'AAAA' ? { address: r.address, family } : undefined));
  }

  srv(name: string): Promise<DnsAnswer<SrvRecord>> {
    return this.#answer('SRV', name, (r) => (r.type === 'SRV' ? { priority: r.priority, weight: r.weight, port: r.port, target: r.target } : undefined));
  }

  naptr(name: string): Promise<DnsAnswer<NaptrRecord>> {
    return this.#answer('NAPTR', name, (r) =>
      r.type === 'NAPTR' ? { order: r.order, preference: r.preference, flags: r.flags, service: r.service, regexp: r.regexp ?? '', replacement: r.replacement } : undefined,
    );
  }

  #answer<T>(type: DnsQuestionType, name: string, map: (r: DnsTestRecord) => T | undefined): Promise<DnsAnswer<T>> {
    this.questions.push({ type, name });
    const found = lookUp(this.records, type, name) ?? [];
    const records = found.map(map).filter((r): r is T => r !== undefined);
    if (records.length === 0) return Promise.resolve({ status: 'not-found', records: [] });
    return Promise.resolve({ status: 'ok', records, ttlSec: Math.min(...found.map((r) => r.ttlSec ?? 300)) });
  }
}

// ---- The wire (RFC 1035 §4.1) ----

const TYPE_CODES: Readonly<Record<DnsQuestionType, number>> = { A: 1, AAAA: 28, SRV: 33, NAPTR: 35 };
const TYPE_NAMES = new Map<number, DnsQuestionType>(Object.entries(TYPE_CODES).map(([k, v]) => [v, k as DnsQuestionType]));
const CLASS_IN = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;

interface Query {
  readonly id: number;
  readonly flags: number;
  readonly qtype: number;
  readonly name: string;
  /** The question section as sent (echoed back). */
  readonly question: Buffer;
}

/**
 *  Header: ID(16) | QR Opcode(4) AA TC RD | RA Z(3) RCODE(4) | QDCOUNT | ANCOUNT | NSCOUNT | ARCOUNT
 *  Question: QNAME (labels) | QTYPE(16) | QCLASS(16)
 * Undefined for anything but one well-formed uncompressed question.
 */
function parseQuery(buf: Buffer): Query | undefined {
  if (buf.length < 12 || buf.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let p = 12;
  for (;;) {
    const len = buf[p];
    if (len === undefined || len > 63) return undefined;
    p++;
    if (len === 0) break;
    if (p + len > buf.length) return undefined;
    labels.push(buf.toString('latin1', p, p + len));
    p += len;
  }
  if (p + 4 > buf.length) return undefined;
  const qtype = buf.readUInt16BE(p);
  return { id: buf.readUInt16BE(0), flags: buf.readUInt16BE(2), qtype, name: labels.join('.'), question: buf.subarray(12, p + 4) };
}

function writeName(name: string): Buffer {
  const parts = norm(name)
    .split('.')
    .filter((l) => l.length > 0)
    .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

function characterString(s: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  return Buffer.concat([Buffer.from([b.length]), b]);
}

function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}

function rdataOf(r: DnsTestRecord): Buffer {
  switch (r.type) {
    case 'A':
      return Buffer.from(r.address.split('.').map(Number));
    case 'AAAA': {
      // Expand '::' to the eight 16-bit groups.
      const [head = '', tail = ''] = r.address.split('::');
      const h = head === '' ? [] : head.split(':');
      const t = tail === '' ? [] : tail.split(':');
      const groups = r.address.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
      return u16(...groups.map((g) => parseInt(g, 16)));
    }
    case 'SRV':
      return Buffer.concat([u16(r.priority, r.weight, r.port), writeName(r.target === '.' ? '' : r.target)]);
    case 'NAPTR':
      return Buffer.concat([u16(r.order, r.preference), characterString(r.flags), characterString(r.service), characterString(r.regexp ?? ''), writeName(r.replacement === '.' ? '' : r.replacement)]);
    default: {
      const never: never = r;
      return never;
    }
  }
}

function answer(q: Query, rcode: number, records: readonly DnsTestRecord[]): Buffer {
  // QR, the query's opcode, AA, the query's RD.
  const flags = 0x8000 | (q.flags & 0x7800) | 0x0400 | (q.flags & 0x0100) | rcode;
  const rrs = records.map((r) => {
    const rdata = rdataOf(r);
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(TYPE_CODES[r.type], 0);
    fixed.writeUInt16BE(CLASS_IN, 2);
    fixed.writeUInt32BE(r.ttlSec ?? 300, 4);
    fixed.writeUInt16BE(rdata.length, 8);
    return Buffer.concat([writeName(r.name), fixed, rdata]);
  });
  return Buffer.concat([u16(q.id, flags, 1, records.length, 0, 0), q.question, ...rrs]);
}

/** An authoritative DNS server on 127.0.0.1 (UDP) for the records of a table; NXDOMAIN for every other name. */
export class TestDnsServer {
  records: DnsTestRecord[];
  readonly questions: DnsQuestion[] = [];
  readonly #socket = dgram.createSocket('udp4');
  #port = 0;

  private constructor(records: readonly DnsTestRecord[]) {
    this.records = [...records];
  }

  static async start(records: readonly DnsTestRecord[]): Promise<TestDnsServer> {
    for (const r of records) if ((r.type === 'A' && isIP(r.address) !== 4) || (r.type === 'AAAA' && isIP(r.address) !== 6)) throw new Error(`bad test record ${JSON.stringify(r)}`);
    const s = new TestDnsServer(records);
    s.#socket.on('message', (msg, rinfo) => s.#onQuery(msg, rinfo));
    await new Promise<void>((resolve) => s.#socket.bind(0, '127.0.0.1', resolve));
    s.#port = s.#socket.address().port;
    return s;
  }

  /** For node:dns setServers / the `dnsServers` config key. */
  get server(): string {
    return `127.0.0.1:${this.#port}`;
  }

  #onQuery(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const q = parseQuery(msg);
    if (q === undefined) return;
    const type = TYPE_NAMES.get(q.qtype);
    let out: Buffer;
    if (type === undefined) {
      out = answer(q, RCODE_NOTIMP, []);
    } else {
      this.questions.push({ type, name: q.name });
      const found = lookUp(this.records, type, q.name);
      out = found === undefined ? answer(q, RCODE_NXDOMAIN, []) : answer(q, 0, found);
    }
    this.#socket.send(out, rinfo.port, rinfo.address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
