/**
 * tshark as a decoding oracle for tests: payloads become TCP segments of a pcap (written here:
 * classic pcap, LINKTYPE_RAW, IPv4 + TCP on 127.0.0.1, sequence numbers running on per direction
 * so tshark reassembles TPKTs split over segments), `tshark -T json -V` reads it, and each packet
 * comes back as a flat map of field name → values plus whether any dissector flagged it malformed
 * or raised an expert item of error severity. Temp files live under os.tmpdir() and are removed;
 * tshark runs with HOME/XDG dirs pointed there so it writes nothing into the user's profile.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface TsharkFrame {
  readonly payload: Buffer;
  readonly srcPort: number;
  readonly dstPort: number;
}

export interface TsharkOptions {
  /** `-d` arguments, e.g. `tcp.port==40001,tpkt` (TCP 1720 is H.225.0 over TPKT without one). */
  readonly decodeAs?: readonly string[];
}

export interface TsharkPacket {
  /** Every field tshark showed, by its filter name (`q931.cause_value`), values in tree order. */
  readonly fields: ReadonlyMap<string, readonly string[]>;
  /** A `_ws.malformed` item, or an expert item of error severity. */
  readonly malformed: boolean;
  /** Expert messages of error severity, for failure output. */
  readonly errors: readonly string[];
}

/** Expert severity "error" (epan/proto.h PI_ERROR). */
const PI_ERROR = 0x00800000;
const LINKTYPE_RAW = 101;
const LOOPBACK = [127, 0, 0, 1];

/** A classic little-endian pcap of the frames as one TCP conversation per port pair. */
export function tcpPcap(frames: readonly TsharkFrame[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262_144, 16);
  header.writeUInt32LE(LINKTYPE_RAW, 20);
  const parts: Buffer[] = [header];
  const next = new Map<string, number>();
  frames.forEach((f, i) => {
    if (f.payload.length > 65_000) throw new RangeError(`segment of ${f.payload.length} octets`);
    const key = `${f.srcPort}>${f.dstPort}`;
    const seq = next.get(key) ?? 1;
    next.set(key, seq + f.payload.length);
    const ack = next.get(`${f.dstPort}>${f.srcPort}`) ?? 1;
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(40 + f.payload.length, 2);
    ip.writeUInt16BE(i & 0xffff, 4);
    ip[6] = 0x40; // don't fragment
    ip[8] = 64;
    ip[9] = 6;
    Buffer.from(LOOPBACK).copy(ip, 12);
    Buffer.from(LOOPBACK).copy(ip, 16);
    ip.writeUInt16BE(ipChecksum(ip), 10);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(f.srcPort, 0);
    tcp.writeUInt16BE(f.dstPort, 2);
    tcp.writeUInt32BE(seq, 4);
    tcp.writeUInt32BE(ack, 8);
    tcp[12] = 0x50;
    tcp[13] = 0x18; // PSH, ACK
    tcp.writeUInt16BE(65_535, 14);
    const packet = Buffer.concat([ip, tcp, f.payload]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_700_000_000 + i, 0);
    rec.writeUInt32LE(packet.length, 8);
    rec.writeUInt32LE(packet.length, 12);
    parts.push(rec, packet);
  });
  return Buffer.concat(parts);
}

function ipChecksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Decodes the frames with tshark; one TsharkPacket per pcap record, in order. */
export async function decodeWithTshark(frames: readonly TsharkFrame[], opts: TsharkOptions = {}): Promise<TsharkPacket[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tshark-oracle-'));
  try {
    const file = path.join(dir, 'in.pcap');
    await writeFile(file, tcpPcap(frames));
    const args = ['-r', file, '-T', 'json', '-V', '--no-duplicate-keys', '-o', 'tcp.desegment_tcp_streams:TRUE', '-o', 'tcp.check_checksum:FALSE'];
    for (const d of opts.decodeAs ?? []) args.push('-d', d);
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, XDG_CONFIG_HOME: dir, XDG_CACHE_HOME: dir, LANG: 'C' };
    const out = await new Promise<string>((resolve, reject) => {
      execFile('tshark', args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`tshark failed: ${err.message} ${stderr}`));
        else resolve(stdout);
      });
    });
    const parsed: unknown = JSON.parse(out);
    if (!Array.isArray(parsed)) throw new Error('tshark JSON is not an array');
    return parsed.map((p: unknown) => toPacket(p));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function toPacket(p: unknown): TsharkPacket {
  const fields = new Map<string, string[]>();
  const add = (k: string, v: string): void => {
    const list = fields.get(k);
    if (list === undefined) fields.set(k, [v]);
    else list.push(v);
  };
  const walk = (key: string, v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) walk(key, item);
    } else if (v !== null && typeof v === 'object') {
      // A subtree: the object is the field's children (its key names the tree, `…_tree`, or the text).
      for (const [k, child] of Object.entries(v)) walk(k, child);
    } else if (v !== null && v !== undefined) {
      add(key, String(v));
    }
  };
  const layers = isRecord(p) && isRecord(p['_source']) ? p['_source']['layers'] : undefined;
  walk('', layers);
  const severities = fields.get('_ws.expert.severity') ?? [];
  const messages = fields.get('_ws.expert.message') ?? [];
  const errors = messages.filter((_, i) => Number(severities[i]) === PI_ERROR);
  const malformed = [...fields.keys()].some((k) => k.startsWith('_ws.malformed')) || severities.some((s) => Number(s) === PI_ERROR);
  return { fields, malformed, errors };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The values of one field (empty when tshark did not show it). */
export function fieldValues(pkt: TsharkPacket | undefined, name: string): readonly string[] {
  return pkt?.fields.get(name) ?? [];
}

/** The single value of a field; undefined when absent or shown more than once. */
export function fieldValue(pkt: TsharkPacket | undefined, name: string): string | undefined {
  const v = fieldValues(pkt, name);
  return v.length === 1 ? v[0] : undefined;
}

/** Whether tshark shows the protocol (`q931`, `h225`, `h245`) in the packet. */
export function hasLayer(pkt: TsharkPacket | undefined, proto: string): boolean {
  if (pkt === undefined) return false;
  for (const k of pkt.fields.keys()) if (k === proto || k.startsWith(`${proto}.`)) return true;
  return false;
}
