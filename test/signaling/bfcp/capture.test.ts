/**
 * Our decoding against tshark's: the BFCP frames of bfcp.pcapng (cut into test/fixtures/bfcp/),
 * and every primitive and attribute Carillon encodes, written into a pcap and read back by
 * tshark. tshark 4.0's BFCP dissector takes version 1 messages only (its check of the version
 * bits), so the encoded corpus goes to it as version 1 — the layout of version 2 is the same
 * but for those bits and F.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BfcpAttribute } from '../../../signaling/bfcp/attributes.ts';
import { parseCommonHeader } from '../../../signaling/bfcp/common-header.ts';
import { encodeMessage, parseMessage } from '../../../signaling/bfcp/messages.ts';
import { decodeWithTshark, fieldValues, type TsharkPacket } from '../../support/tshark-oracle.ts';
import { CORPUS } from './corpus.ts';

const FIXTURES = path.join(import.meta.dirname, '../../fixtures/bfcp');
/** A copy of the shared capture (ntop/nDPI tests/cfgs/default/pcap/bfcp.pcapng), 1 KiB. */
const CAPTURE = path.join(FIXTURES, 'bfcp.pcapng');
const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES, name));

interface CapturedFrame {
  readonly frame: number;
  readonly payload: Buffer;
  readonly fields: Record<string, string>;
}

/** The BFCP frames of the capture with their payloads and tshark's header fields. */
function captureFrames(): CapturedFrame[] {
  const out = execFileSync(
    'tshark',
    ['-r', CAPTURE, '-d', 'tcp.port==5070,bfcp', '-d', 'udp.port==5070,bfcp', '-Y', 'bfcp', '-T', 'fields', '-E', 'separator=;', '-e', 'frame.number', '-e', 'tcp.payload', '-e', 'udp.payload',
      '-e', 'bfcp.ver', '-e', 'bfcp.hdr_r_bit', '-e', 'bfcp.hdr_f_bit', '-e', 'bfcp.primitive', '-e', 'bfcp.payload_length', '-e', 'bfcp.conference_id', '-e', 'bfcp.transaction_id', '-e', 'bfcp.user_id'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp', LANG: 'C' } },
  );
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const [frame, tcp, udp, ver, r, f, primitive, len, conf, tid, uid] = line.split(';');
      return {
        frame: Number(frame),
        payload: Buffer.from(tcp !== '' && tcp !== undefined ? tcp : (udp ?? ''), 'hex'),
        fields: { ver: ver ?? '', r: r ?? '', f: f ?? '', primitive: primitive ?? '', len: len ?? '', conf: conf ?? '', tid: tid ?? '', uid: uid ?? '' },
      };
    });
}

describe('bfcp.pcapng', () => {
  const frames = captureFrames();

  it('has the four BFCP frames the fixtures were cut from, unchanged', () => {
    expect(frames.map((f) => f.frame)).toEqual([4, 6, 12, 13]);
    expect(frames[0]?.payload).toEqual(fixture('frame4-tcp.bin'));
    expect(frames[1]?.payload).toEqual(fixture('frame6-tcp.bin'));
    expect(frames[2]?.payload).toEqual(fixture('frame12-udp.bin'));
    expect(frames[3]?.payload).toEqual(fixture('frame13-udp.bin'));
  });

  it.each([4, 6, 12, 13])('frame %i: our COMMON-HEADER is tshark’s', (n) => {
    const f = frames.find((x) => x.frame === n);
    expect(f).toBeDefined();
    if (f === undefined) return;
    const h = parseCommonHeader(f.payload);
    expect(h.ok).toBe(true);
    if (!h.ok) return;
    const ours = {
      ver: String(h.value.version),
      r: h.value.responder ? '1' : '0',
      f: h.value.fragmented ? '1' : '0',
      primitive: String(h.value.primitive),
      len: String(h.value.payloadWords),
      conf: String(h.value.conferenceId),
      tid: String(h.value.transactionId),
      uid: String(h.value.userId),
    };
    // tshark 4.0 writes booleans as 0/1 in -T fields.
    expect(ours).toEqual({ ...f.fields, r: f.fields['r'] === 'True' || f.fields['r'] === '1' ? '1' : '0', f: f.fields['f'] === 'True' || f.fields['f'] === '1' ? '1' : '0' });
  });

  it('the captured messages announce a payload they lack: refused as incorrect-length (Error 13), header kept', () => {
    for (const name of ['frame4-tcp.bin', 'frame6-tcp.bin', 'frame12-udp.bin', 'frame13-udp.bin']) {
      expect(parseMessage(fixture(name))).toMatchObject({ ok: false, code: 'incorrect-length', errorCode: 13, header: { conferenceId: 1, transactionId: 2, userId: 1284 } });
    }
  });

  it('the malformed siblings are refused with their codes', () => {
    expect(parseMessage(fixture('frame4-tcp.malformed-version.bin'))).toMatchObject({ ok: false, code: 'unsupported-version', errorCode: 12, header: { version: 7, transactionId: 2, userId: 1284 } });
    expect(parseMessage(fixture('frame4-tcp.malformed-attribute.bin'))).toMatchObject({ ok: false, code: 'malformed-attribute', errorCode: 10, header: { primitive: 3 } });
    // Completed with the FLOOR-REQUEST-ID its grammar requires, frame 4 reads.
    const whole = Buffer.concat([fixture('frame4-tcp.bin'), Buffer.from('07040001', 'hex')]);
    const r = parseMessage(whole);
    expect(r.ok && r.value.attributes).toEqual([{ kind: 'u16', type: 3, mandatory: true, value: 1 }]);
  });
});

/** Our attributes flattened in tree order into the fields tshark shows. */
function ourFields(attrs: readonly BfcpAttribute[], out: Map<string, string[]> = new Map()): Map<string, string[]> {
  const add = (k: string, v: string | number): void => {
    out.set(k, [...(out.get(k) ?? []), String(v)]);
  };
  const idField: Record<number, string> = { 1: 'bfcp.beneficiary_id', 2: 'bfcp.floor_id', 3: 'bfcp.floorrequest_id', 14: 'bfcp.beneficiary_id', 15: 'bfcp.floorrequest_id', 16: 'bfcp.req_by_i', 17: 'bfcp.floor_id', 18: 'bfcp.floorrequest_id' };
  const textField: Record<number, string> = { 7: 'bfcp.error_info_text', 8: 'bfcp.part_prov_info_text', 9: 'bfcp.status_info_text', 12: 'bfcp.user_disp_name', 13: 'bfcp.user_uri' };
  for (const a of attrs) {
    add('bfcp.attribute_type', a.type);
    add('bfcp.attribute_types_m_bit', a.mandatory ? 1 : 0);
    add('bfcp.attribute_length', encodeMessage({ version: 1, responder: false, primitive: 11, conferenceId: 0, transactionId: 0, userId: 0, attributes: [a] })[13] ?? 0);
    switch (a.kind) {
      case 'u16':
        add(idField[a.type] ?? '?', a.value);
        break;
      case 'group':
        add(idField[a.type] ?? '?', a.id);
        ourFields(a.children, out);
        break;
      case 'priority':
        add('bfcp.priority', a.priority);
        break;
      case 'request-status':
        add('bfcp.request_status', a.status);
        add('bfcp.queue_pos', a.queuePosition);
        break;
      case 'error-code':
        add('bfcp.error_code', a.code);
        if (a.details.length > 0) add('bfcp.error_specific_details', [...a.details].map((b) => b.toString(16).padStart(2, '0')).join(':'));
        break;
      case 'text':
        add(textField[a.type] ?? '?', a.text);
        break;
      case 'list':
        for (const v of a.values) add(a.type === 10 ? 'bfcp.supp_attr' : 'bfcp.supp_primitive', v);
        break;
      case 'unknown':
        break;
    }
  }
  return out;
}

const COMPARED = [
  'bfcp.attribute_type',
  'bfcp.attribute_types_m_bit',
  'bfcp.attribute_length',
  'bfcp.beneficiary_id',
  'bfcp.floor_id',
  'bfcp.floorrequest_id',
  'bfcp.req_by_i',
  'bfcp.priority',
  'bfcp.request_status',
  'bfcp.queue_pos',
  'bfcp.error_code',
  'bfcp.error_specific_details',
  'bfcp.error_info_text',
  'bfcp.part_prov_info_text',
  'bfcp.status_info_text',
  'bfcp.user_disp_name',
  'bfcp.user_uri',
  'bfcp.supp_attr',
  'bfcp.supp_primitive',
];

describe('tshark reads what Carillon writes, as Carillon reads it', () => {
  it('every primitive of the corpus, attribute by attribute', async () => {
    const messages = CORPUS.map((m) => encodeMessage({ ...m, version: 1 }));
    const packets: TsharkPacket[] = await decodeWithTshark(
      messages.map((payload) => ({ payload, srcPort: 40_000, dstPort: 5070 })),
      { decodeAs: ['tcp.port==5070,bfcp'] },
    );
    expect(packets).toHaveLength(messages.length);
    messages.forEach((bytes, i) => {
      const pkt = packets[i];
      expect(pkt?.malformed, `message ${i}: ${pkt?.errors.join('; ')}`).toBe(false);
      const r = parseMessage(bytes);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(fieldValues(pkt, 'bfcp.primitive')).toEqual([String(r.value.primitive)]);
      expect(fieldValues(pkt, 'bfcp.conference_id')).toEqual([String(r.value.header.conferenceId)]);
      expect(fieldValues(pkt, 'bfcp.transaction_id')).toEqual([String(r.value.header.transactionId)]);
      expect(fieldValues(pkt, 'bfcp.user_id')).toEqual([String(r.value.header.userId)]);
      expect(fieldValues(pkt, 'bfcp.payload_length')).toEqual([String(r.value.header.payloadWords)]);
      const ours = ourFields(r.value.attributes);
      // tshark's JSON merges a subtree's same-named fields into one array, so tree order is lost: compare as multisets.
      const sorted = (v: readonly string[]): string[] => [...v].sort();
      for (const k of COMPARED) expect([k, sorted(fieldValues(pkt, k))]).toEqual([k, sorted(ours.get(k) ?? [])]);
    });
  });
});
