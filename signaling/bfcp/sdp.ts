/**
 * The SDP of a BFCP stream (RFC 8856, which obsoletes RFC 4583) as Carillon, the floor control
 * server, reads an offer and writes its answer. Pure functions over text.
 *
 *     m=application <port> TCP/BFCP *        (also TCP/TLS/BFCP, UDP/BFCP, UDP/TLS/BFCP)
 *     a=floorctrl:c-only | s-only | c-s      (roles the offerer can take, §4)
 *     a=confid:<conference-id>               (§5: 1*DIGIT, 32 bits)
 *     a=userid:<user-id>                     (§6: 1*DIGIT, 16 bits)
 *     a=floorid:<floor-id> mstrm:<label> …   (§7; RFC 4583 wrote "m-stream:")
 *     a=bfcpver:<version> …                  (§8)
 *     a=setup / a=connection                 (RFC 4145, TCP only)
 *
 * sdp-transform reads one a=floorid and one floorctrl role per section, where RFC 8856 allows
 * several of each, so the BFCP section's attributes are read from its lines here.
 */

export type BfcpSdpProto = 'TCP/BFCP' | 'TCP/TLS/BFCP' | 'UDP/BFCP' | 'UDP/TLS/BFCP';
export type FloorCtrlRole = 'c-only' | 's-only' | 'c-s';
export type SetupRole = 'active' | 'passive' | 'actpass' | 'holdconn';

/** The BFCP media line of an offer, as read. */
export interface BfcpOffer {
  /** The m= line's index among the description's media lines. */
  readonly mediaIndex: number;
  readonly port: number;
  readonly proto: BfcpSdpProto;
  /** The connection address (c= of the media, else of the session); undefined when absent. */
  readonly address: string | undefined;
  /** a=floorctrl roles; RFC 8856 §4: absent means the offerer is a floor control client (c-only). */
  readonly floorctrl: readonly FloorCtrlRole[];
  readonly confId: number | undefined;
  readonly userId: number | undefined;
  readonly floors: readonly { readonly floorId: number; readonly mstrm: readonly string[] }[];
  /** a=bfcpver versions; empty when absent. */
  readonly versions: readonly number[];
  readonly setup: SetupRole | undefined;
  readonly connection: 'new' | 'existing' | undefined;
}

/** One media line's type and labels, for finding the content video line a floor names. */
export interface SdpMediaSummary {
  readonly index: number;
  readonly type: string;
  readonly port: number;
  readonly label: string | undefined;
  /** a=content values (RFC 4796: slides, main, …). */
  readonly content: readonly string[];
}

export interface BfcpSdpRead {
  readonly media: readonly SdpMediaSummary[];
  /** The first BFCP application line; undefined when the description has none. */
  readonly bfcp: BfcpOffer | undefined;
}

const PROTOS: readonly BfcpSdpProto[] = ['TCP/BFCP', 'TCP/TLS/BFCP', 'UDP/BFCP', 'UDP/TLS/BFCP'];
const ROLES: readonly FloorCtrlRole[] = ['c-only', 's-only', 'c-s'];
const SETUPS: readonly SetupRole[] = ['active', 'passive', 'actpass', 'holdconn'];

function digits(s: string | undefined, max: number): number | undefined {
  if (s === undefined || !/^\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
}

function cAddress(line: string): string | undefined {
  // c=<nettype> <addrtype> <connection-address>
  const m = /^c=IN IP[46] ([^\s/]+)/.exec(line);
  return m?.[1];
}

/** Reads the media lines and the first BFCP line of a description. */
export function readBfcpSdp(text: string): BfcpSdpRead {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  let sessionAddress: string | undefined;
  const sections: string[][] = [];
  for (const l of lines) {
    if (l.startsWith('m=')) sections.push([l]);
    else if (sections.length > 0) (sections[sections.length - 1] as string[]).push(l);
    else if (l.startsWith('c=')) sessionAddress = cAddress(l);
  }
  const media: SdpMediaSummary[] = [];
  let bfcp: BfcpOffer | undefined;
  sections.forEach((sec, index) => {
    const [mline = '', ...attrs] = sec;
    const m = /^m=(\S+) (\d+)(?:\/\d+)? (\S+)/.exec(mline);
    const type = m?.[1] ?? '';
    const port = Number(m?.[2] ?? 0);
    const proto = (m?.[3] ?? '').toUpperCase();
    const value = (name: string): string[] => attrs.filter((a) => a.startsWith(`a=${name}:`)).map((a) => a.slice(name.length + 3).trim());
    media.push({ index, type, port, label: value('label')[0], content: value('content').flatMap((c) => c.split(',')) });
    if (bfcp !== undefined || type !== 'application' || !(PROTOS as readonly string[]).includes(proto)) return;
    const floorctrl = value('floorctrl')
      .flatMap((v) => v.split(/\s+/))
      .filter((r): r is FloorCtrlRole => (ROLES as readonly string[]).includes(r));
    const floors = value('floorid').flatMap((v) => {
      const [id, ...streams] = v.split(/\s+/);
      const floorId = digits(id, 0xffff);
      if (floorId === undefined) return [];
      const mstrm = streams.flatMap((s) => {
        const sm = /^(?:mstrm|m-stream):(.+)$/.exec(s);
        return sm?.[1] === undefined ? [] : [sm[1]];
      });
      return [{ floorId, mstrm }];
    });
    const setup = value('setup')[0];
    const connection = value('connection')[0];
    bfcp = {
      mediaIndex: index,
      port,
      proto: proto as BfcpSdpProto,
      address: attrs.map(cAddress).find((a) => a !== undefined) ?? sessionAddress,
      floorctrl: floorctrl.length > 0 ? floorctrl : ['c-only'],
      confId: digits(value('confid')[0], 0xffffffff),
      userId: digits(value('userid')[0], 0xffff),
      floors,
      versions: value('bfcpver')
        .flatMap((v) => v.split(/\s+/))
        .map((v) => digits(v, 255))
        .filter((v): v is number => v !== undefined),
      setup: (SETUPS as readonly string[]).includes(setup ?? '') ? (setup as SetupRole) : undefined,
      connection: connection === 'new' || connection === 'existing' ? connection : undefined,
    };
  });
  return { media, bfcp };
}

/** What Carillon answers with. */
export interface BfcpAnswerParams {
  /** Carillon's BFCP port for this participant (TCP listening port or UDP socket port). */
  readonly port: number;
  readonly conferenceId: number;
  /** The BFCP user id assigned to this participant. */
  readonly userId: number;
  /** Default 1. */
  readonly floorId?: number;
  /** The a=label of the content video line in Carillon's answer. */
  readonly contentLabel: string;
}

export type BfcpAnswerRefusal = 'no-server-role' | 'tls-unsupported' | 'no-common-version' | 'port-zero';

export type BfcpAnswer =
  | {
      readonly ok: true;
      /** The answer's media section: the m= line and its attributes, CRLF not included. */
      readonly lines: readonly string[];
      readonly transport: 'tcp' | 'udp';
      /** BFCP version to speak (a=bfcpver, else 1 over TCP and 2 over UDP). */
      readonly version: 1 | 2;
      /** TCP: passive (Carillon listens) or active (Carillon connects to the offer's address and port). */
      readonly setup: 'passive' | 'active' | undefined;
    }
  | {
      readonly ok: false;
      readonly reason: BfcpAnswerRefusal;
      /** The rejected line to answer with (port 0, RFC 3264 §6). */
      readonly lines: readonly string[];
    };

/**
 * Carillon's answer to a BFCP offer (RFC 8856 §4 Table 1): Carillon is always the floor control
 * server — `s-only` when the offerer can be a client (c-only or c-s), refused when it offers
 * only s-only. TCP setup (RFC 4145 §4.1): an active or actpass offerer gets `passive` (it
 * connects to Carillon), a passive one `active`. TLS/DTLS BFCP is refused for now.
 */
export function answerBfcpOffer(offer: BfcpOffer, params: BfcpAnswerParams): BfcpAnswer {
  const reject = (reason: BfcpAnswerRefusal): BfcpAnswer => ({ ok: false, reason, lines: [`m=application 0 ${offer.proto} *`] });
  if (offer.port === 0) return reject('port-zero');
  if (offer.proto === 'TCP/TLS/BFCP' || offer.proto === 'UDP/TLS/BFCP') return reject('tls-unsupported'); // TODO(rfc8856 §10): TLS and DTLS
  if (!offer.floorctrl.includes('c-only') && !offer.floorctrl.includes('c-s')) return reject('no-server-role');
  const udp = offer.proto === 'UDP/BFCP';
  // §8: "bfcpver" lists the versions the offerer supports; UDP is version 2 only (RFC 8855 §5.1).
  let version: 1 | 2;
  if (offer.versions.length === 0) version = udp ? 2 : 1;
  else if (offer.versions.includes(2)) version = 2;
  else if (offer.versions.includes(1) && !udp) version = 1;
  else return reject('no-common-version');
  const floorId = params.floorId ?? 1;
  const lines = [
    `m=application ${params.port} ${offer.proto} *`,
    'a=floorctrl:s-only',
    `a=confid:${params.conferenceId >>> 0}`,
    `a=userid:${params.userId & 0xffff}`,
    `a=floorid:${floorId} mstrm:${params.contentLabel}`,
  ];
  if (offer.versions.length > 0) lines.push(`a=bfcpver:${version}`);
  let setup: 'passive' | 'active' | undefined;
  if (!udp) {
    setup = offer.setup === 'passive' ? 'active' : 'passive';
    lines.push(`a=setup:${setup}`, 'a=connection:new');
  }
  return { ok: true, lines, transport: udp ? 'udp' : 'tcp', version, setup };
}

/** The index of the offer's media line a floor names through mstrm (its a=label), the content video line. */
export function floorMediaIndex(read: BfcpSdpRead, floorId: number): number | undefined {
  const floor = read.bfcp?.floors.find((f) => f.floorId === floorId) ?? read.bfcp?.floors[0];
  if (floor === undefined) return read.media.find((m) => m.type === 'video' && m.content.includes('slides'))?.index;
  return read.media.find((m) => m.label !== undefined && floor.mstrm.includes(m.label))?.index;
}
