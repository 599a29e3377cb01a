import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateVoiceConnectorCommand, PutVoiceConnectorTerminationCommand, PutVoiceConnectorTerminationCredentialsCommand } from '@aws-sdk/client-chime-sdk-voice';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';
import { RawUdpPeer } from '../support/raw-sip.ts';
import type { RawReply } from '../support/raw-sip.ts';
import { startTestServer } from '../support/server.ts';
import type { TestServer } from '../support/server.ts';
import { killAllSipp, realErrors, runSipp, startSipp } from '../support/sipp.ts';
import type { SippResult } from '../support/sipp.ts';
import { farEnd, trunkCaller } from '../support/sipp-trunk-scenarios.ts';
import { trunkApi } from '../support/trunk-api.ts';
import type { TrunkApi } from '../support/trunk-api.ts';

/**
 * Termination digest authentication against the real server: fresh nonces per call, replays and
 * foreign nonces challenged again (stale), the uri bound to the Request-URI, bans after repeated
 * failures (per source, and per voice connector for guessing spread over many sources), and
 * sipvicious svcrack getting nowhere.
 */
afterAll(() => killAllSipp());

const DIALED = '+14155550123';
const PASSWORD = 'trunk-secret';
const BAN_SEC = 3;

const md5 = (s: string): string => crypto.createHash('md5').update(s).digest('hex');

/** An RFC 7616 qop=auth MD5 answer to the first challenge in a 407, as a PBX computes it. */
function answer(reply: RawReply, o: { uri: string; password: string; nc?: number; username?: string }): string {
  const challenge = /^Proxy-Authenticate: (Digest .*algorithm=MD5.*)$/im.exec(reply.text)?.[1] ?? '';
  const realm = /realm="([^"]+)"/.exec(challenge)?.[1] ?? '';
  const nonce = /nonce="([^"]+)"/.exec(challenge)?.[1] ?? '';
  const username = o.username ?? 'pbx';
  const nc = (o.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = crypto.randomBytes(6).toString('hex');
  const ha1 = md5(`${username}:${realm}:${o.password}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${md5(`INVITE:${o.uri}`)}`);
  return `Digest username="${username}", realm="${realm}", nonce="${nonce}", uri="${o.uri}", response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

/** The first value of a header in a message's text (names case-insensitive). */
function headerOf(text: string, name: string): string | undefined {
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return undefined;
}

/** A PBX on a raw UDP socket: one INVITE at a time, the final answer awaited and ACKed. */
class RawPbx {
  readonly peer = new RawUdpPeer();
  #address = '127.0.0.1';
  #seq = 0;

  async open(address: string): Promise<this> {
    this.#address = address;
    await this.peer.open(address);
    return this;
  }

  /** Sends an INVITE (a new call unless `callId` is given) and resolves with its final response. */
  async invite(target: number, ruri: string, o: { auth?: string; callId?: string; cseq?: number } = {}): Promise<RawReply> {
    const n = ++this.#seq;
    const callId = o.callId ?? `raw-${crypto.randomBytes(6).toString('hex')}`;
    const cseq = o.cseq ?? 1;
    const branch = `z9hG4bK${crypto.randomBytes(6).toString('hex')}`;
    const via = `Via: SIP/2.0/UDP ${this.#address}:${this.peer.port};branch=${branch};rport`;
    const from = `From: <sip:+12065550111@${this.#address}>;tag=t${n}`;
    this.peer.send(
      `INVITE ${ruri} SIP/2.0\r\n${via}\r\n${from}\r\nTo: <${ruri}>\r\nCall-ID: ${callId}\r\nCSeq: ${cseq} INVITE\r\nContact: <sip:pbx@${this.#address}:${this.peer.port}>\r\nMax-Forwards: 70\r\n${o.auth === undefined ? '' : `Proxy-Authorization: ${o.auth}\r\n`}Content-Length: 0\r\n\r\n`,
      target,
    );
    const final = await this.peer.waitFor((r) => r.status !== undefined && r.status >= 200 && headerOf(r.text, 'call-id') === callId && headerOf(r.text, 'cseq') === `${cseq} INVITE`, 5_000);
    if (final === undefined) throw new Error(`no final response to INVITE ${ruri}`);
    this.peer.replies.splice(this.peer.replies.indexOf(final), 1);
    const to = headerOf(final.text, 'to') ?? `<${ruri}>`;
    this.peer.send(`ACK ${ruri} SIP/2.0\r\n${via}\r\n${from}\r\nTo: ${to}\r\nCall-ID: ${callId}\r\nCSeq: ${cseq} ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`, target);
    return final;
  }

  close(): void {
    this.peer.close();
  }
}

describe('termination digest authentication: replays, uri binding, bans (real server, SIPp, raw UDP, svcrack)', () => {
  let t: TestServer;
  let api: TrunkApi;
  let carrierPort = 0;
  const logs: string[] = [];
  const refusedRules: { rule: string }[] = [];

  /** A voice connector with termination credentials, open to all of 127.0.0.0/8; its host name. */
  const trunk = async (name: string): Promise<{ id: string; host: string }> => {
    const vc = (await api.voice.send(new CreateVoiceConnectorCommand({ Name: name, RequireEncryption: false }))).VoiceConnector;
    const id = vc?.VoiceConnectorId ?? '';
    await api.voice.send(new PutVoiceConnectorTerminationCommand({ VoiceConnectorId: id, Termination: { CallingRegions: ['US'], CidrAllowedList: ['127.0.0.0/8'], CpsLimit: 100 } }));
    await api.voice.send(new PutVoiceConnectorTerminationCredentialsCommand({ VoiceConnectorId: id, Credentials: [{ Username: 'pbx', Password: PASSWORD }] }));
    return { id, host: vc?.OutboundHostName ?? '' };
  };
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${t.ports.api}/metrics`)).text();
  /** A sample's value (`series` is the name with its labels as exported), 0 when absent. */
  const metric = async (series: string): Promise<number> => {
    const line = (await metrics()).split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };
  const pbxCall = (host: string, o: { localIp?: string; expect?: 'answer' | number; calls?: number; traceMsg?: boolean; auth?: boolean } = {}): Promise<SippResult> =>
    freePort().then((port) =>
      runSipp({
        scenario: { name: 'pbx', xml: trunkCaller({ host, from: '+12065550111', expect: o.expect ?? 'answer', ...(o.auth === false ? {} : { auth: { username: 'pbx', password: PASSWORD } }) }) },
        remote: `127.0.0.1:${t.ports.sipUdp}`,
        port,
        transport: 'udp',
        calls: o.calls ?? 1,
        service: DIALED,
        authUri: `${DIALED}@${host}`,
        timeoutSec: 20,
        ...(o.localIp === undefined ? {} : { localIp: o.localIp }),
        ...(o.traceMsg === true ? { extraArgs: ['-trace_msg'] } : {}),
      }),
    );
  const carrier = (calls: number): ReturnType<typeof startSipp> => startSipp({ scenario: { name: 'carrier', xml: farEnd({ answer: true }) }, port: carrierPort, transport: 'udp', calls, timeoutSec: 30 });
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 200));

  beforeAll(async () => {
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logs.push(line) });
    t = await startTestServer({ sip: { optionsPingIntervalSec: 3600, authBanSec: BAN_SEC } }, { logger });
    api = trunkApi(t);
    t.server.events.on((e) => {
      if (e.type === 'refused') refusedRules.push({ rule: e.rule });
    });
    carrierPort = await freePort();
    expect((await api.api('POST', '/carillon/v1/carriers', { Name: 'upstream', Host: '127.0.0.1', Port: carrierPort, Protocol: 'UDP', Priority: 1, Weight: 1, Prefixes: ['+1'] })).status).toBe(201);
  });

  afterAll(async () => {
    api?.voice.destroy();
    await t?.close();
  });

  let replayed = { header: '', ruri: '' };
  let vcA = { id: '', host: '' };

  it('a PBX with the right credentials places two calls in a row, each answering its own fresh challenge', async () => {
    vcA = await trunk('pbx trunk');
    const far = carrier(2);
    await settle();
    const r = await pbxCall(vcA.host, { calls: 2, traceMsg: true });
    const c = await far.done;
    expect(realErrors(r) + realErrors(c)).toBe('');
    expect([r.successful, c.successful]).toEqual([2, 2]);
    // SIPp's message trace: the two answers it sent, each to a nonce of its own.
    const log = readdirSync(r.dir).find((f) => f.endsWith('_messages.log')) ?? '';
    const sent = [...readFileSync(path.join(r.dir, log), 'latin1').matchAll(/^Proxy-Authorization: (.*)$/gim)].map((m) => (m[1] as string).trim());
    const nonces = new Set(sent.map((h) => /nonce="([^"]+)"/.exec(h)?.[1]));
    expect(sent).toHaveLength(2);
    expect(nonces.size).toBe(2);
    replayed = { header: sent[1] as string, ruri: `sip:${DIALED}@${vcA.host}` };
    await t.waitIdle();
  });

  it('a captured Proxy-Authorization replayed on a new call gets a fresh challenge with stale=true, not a call', async () => {
    const startedBefore = await metric('carillon_calls_started_total');
    const pbx = await new RawPbx().open('127.0.0.1');
    try {
      const reply = await pbx.invite(t.ports.sipUdp as number, replayed.ruri, { auth: replayed.header });
      expect(reply.status).toBe(407);
      expect(reply.text).toMatch(/^Proxy-Authenticate: Digest .*stale=true/im);
      // A right answer to a challenge sent to 127.0.0.1, sent from 127.0.0.2: challenged again too.
      const challenged = await pbx.invite(t.ports.sipUdp as number, replayed.ruri);
      const other = await new RawPbx().open('127.0.0.2');
      try {
        const fromElsewhere = await other.invite(t.ports.sipUdp as number, replayed.ruri, { auth: answer(challenged, { uri: replayed.ruri, password: PASSWORD }) });
        expect(fromElsewhere.status).toBe(407);
        expect(fromElsewhere.text).toMatch(/stale=true/);
      } finally {
        other.close();
      }
    } finally {
      pbx.close();
    }
    expect(await metric('carillon_calls_started_total')).toBe(startedBefore);
    expect(await metric('carillon_sip_auth_stale_total{reason="replay"}')).toBe(1);
    expect(await metric('carillon_sip_auth_stale_total{reason="other_source"}')).toBe(1);
  });

  it('a PBX that keeps its nonce and counts nc up (Asterisk-style) authenticates on every new call; an nc used before is stale', async () => {
    // A number outside CallingRegions: authenticated requests end at that rule (403), no call needed.
    const ruri = `sip:+442071838750@${vcA.host}`;
    const pbx = await new RawPbx().open('127.0.0.5');
    try {
      const challenged = await pbx.invite(t.ports.sipUdp as number, ruri);
      for (const nc of [1, 2, 3]) {
        const r = await pbx.invite(t.ports.sipUdp as number, ruri, { auth: answer(challenged, { uri: ruri, password: PASSWORD, nc }) });
        expect(r.text).toMatch(/^SIP\/2\.0 403 Calling Region Not Allowed/);
      }
      const again = await pbx.invite(t.ports.sipUdp as number, ruri, { auth: answer(challenged, { uri: ruri, password: PASSWORD, nc: 2 }) });
      expect(again.status).toBe(407);
      expect(again.text).toMatch(/stale=true/);
    } finally {
      pbx.close();
    }
    expect(await metric('carillon_sip_auth_stale_total{reason="replay"}')).toBe(2);
    // No stale answer so far was a failure.
    expect(await metric('carillon_sip_auth_failures_total{reason="wrong_response"}')).toBe(0);
  });

  it('the answer computed for one number, sent with another Request-URI, is refused with 403 and counted', async () => {
    const pbx = await new RawPbx().open('127.0.0.3');
    try {
      const ruri = `sip:+14155550199@${vcA.host}`;
      const challenged = await pbx.invite(t.ports.sipUdp as number, ruri, { callId: 'uri-bound', cseq: 1 });
      expect(challenged.status).toBe(407);
      const reply = await pbx.invite(t.ports.sipUdp as number, ruri, { callId: 'uri-bound', cseq: 2, auth: answer(challenged, { uri: `sip:${DIALED}@${vcA.host}`, password: PASSWORD }) });
      expect(reply.status).toBe(403);
    } finally {
      pbx.close();
    }
    expect(await metric('carillon_sip_auth_failures_total{reason="uri_mismatch"}')).toBe(1);
    await t.waitIdle();
  });

  it('a guessing loop gets its source banned: then 403 even with the right password, one log line, counted; the ban ends after its period', async () => {
    const vc = await trunk('guessed trunk');
    const ruri = `sip:${DIALED}@${vc.host}`;
    const port = t.ports.sipUdp as number;
    const pbx = await new RawPbx().open('127.0.0.4');
    const statuses: number[] = [];
    try {
      // A challenge kept aside, to be answered rightly once the source is banned.
      const held = await pbx.invite(port, ruri);
      expect(held.status).toBe(407);
      for (let i = 0; i < 20; i++) {
        const challenged = await pbx.invite(port, ruri);
        if (challenged.status !== 407) {
          statuses.push(challenged.status ?? 0);
          continue;
        }
        statuses.push((await pbx.invite(port, ruri, { auth: answer(challenged, { uri: ruri, password: `guess-${i}` }) })).status ?? 0);
      }
      // Five wrong answers were looked at; from then on every request was refused unchallenged.
      expect(statuses).toEqual(Array<number>(20).fill(403));
      expect(await metric('carillon_sip_auth_failures_total{reason="wrong_response"}')).toBe(5);
      const right = await pbx.invite(port, ruri, { auth: answer(held, { uri: ruri, password: PASSWORD }) });
      expect(right.status).toBe(403);
      expect(right.text).toMatch(/^SIP\/2\.0 403 Too Many Authentication Failures/);
    } finally {
      pbx.close();
    }
    // SIPp with the right credentials from the banned source: refused before any challenge.
    const sipp = await pbxCall(vc.host, { localIp: '127.0.0.4', expect: 403, auth: false });
    expect(sipp.successful, realErrors(sipp)).toBe(1);
    expect(await metric('carillon_sip_auth_bans_total{scope="source"}')).toBe(1);
    expect(await metric('carillon_sip_auth_banned_sources')).toBe(1);
    expect(await metric('carillon_sip_auth_banned_requests_total{scope="source"}')).toBe(17);
    const banLines = logs.filter((l) => l.includes('source banned'));
    expect(banLines).toHaveLength(1);
    expect(JSON.parse(banLines[0] as string)).toMatchObject({ level: 40, source: '127.0.0.4', voiceConnectorId: vc.id, failures: 5, windowSec: 60, banSec: BAN_SEC });
    expect(banLines[0]).not.toMatch(/response|guess-|trunk-secret|nonce/);
    // After the ban period the source authenticates again.
    for (let i = 0; i < 60 && (await metric('carillon_sip_auth_banned_sources')) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await metric('carillon_sip_auth_banned_sources')).toBe(0);
    const far = carrier(1);
    await settle();
    const again = await pbxCall(vc.host, { localIp: '127.0.0.4' });
    const c = await far.done;
    expect(realErrors(again) + realErrors(c)).toBe('');
    expect([again.successful, c.successful]).toEqual([1, 1]);
    await t.waitIdle();
  });

  it('guessing spread over many sources guards the voice connector: the failing sources are refused, the real PBX keeps calling', async () => {
    const vc = await trunk('spread trunk');
    const ruri = `sip:${DIALED}@${vc.host}`;
    const port = t.ports.sipUdp as number;
    const pbxs = await Promise.all([20, 21, 22, 23, 24].map((n) => new RawPbx().open(`127.0.0.${n}`)));
    try {
      // Two wrong answers from each of five sources: ten, the voice connector's threshold; no source reaches its own.
      for (const pbx of pbxs) {
        for (let i = 0; i < 2; i++) {
          const challenged = await pbx.invite(port, ruri);
          expect(challenged.status).toBe(407);
          expect((await pbx.invite(port, ruri, { auth: answer(challenged, { uri: ruri, password: `nope-${i}` }) })).status).toBe(403);
        }
      }
      expect(await metric('carillon_sip_auth_bans_total{scope="voice_connector"}')).toBe(1);
      expect(await metric('carillon_sip_auth_bans_total{scope="source"}')).toBe(1);
      // A failing source is refused even with the right password (not challenged at all).
      const first = pbxs[0] as RawPbx;
      expect((await first.invite(port, ruri)).status).toBe(403);
    } finally {
      for (const p of pbxs) p.close();
    }
    // The real PBX (never failed) keeps calling, as does one new to the trunk.
    const far = carrier(2);
    await settle();
    const real = await pbxCall(vc.host);
    const fresh = await pbxCall(vc.host, { localIp: '127.0.0.30' });
    const c = await far.done;
    expect(realErrors(real) + realErrors(fresh) + realErrors(c)).toBe('');
    expect([real.successful, fresh.successful, c.successful]).toEqual([1, 1, 2]);
    expect(logs.filter((l) => l.includes('voice connector guarded'))).toHaveLength(1);
    expect(await metric('carillon_sip_auth_banned_requests_total{scope="voice_connector"}')).toBe(1);
    await t.waitIdle();
  });

  it('svcrack (sipvicious) does not find the password: banned after five guesses, it gets only 403s after', async () => {
    const vc = await trunk('scanned trunk');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'carillon-svcrack-'));
    /**
     * Runs svcrack over `words` until the server shows it accepted the password, or `afterBanMs`
     * after its source was banned (well inside the ban), or `ms` pass. svcrack 0.3.3 does not
     * pass `-b` on to its socket: it sends from 127.0.0.1, the source the PBX used above (this
     * test comes last). `-x` keeps it from resolving the host name to learn its own address.
     */
    const svcrack = async (name: string, words: readonly string[], ms: number, afterBanMs = ms): Promise<{ output: string; accepted: boolean }> => {
      const wordlist = path.join(dir, `${name}.txt`);
      writeFileSync(wordlist, `${words.join('\n')}\n`);
      const seen = refusedRules.length;
      // The INVITE goes to sip:<voice connector host> with the digest uri the same: the password is what is checked.
      const child = spawn('svcrack', ['-u', 'pbx', '-d', wordlist, '-m', 'INVITE', '--domain', vc.host, '-x', '127.0.0.1', '-P', String(await freePort()), '-t', '0.02', '--maximumtime', '3', `udp://127.0.0.1:${t.ports.sipUdp}`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (b: Buffer) => (output += b.toString()));
      child.stderr.on('data', (b: Buffer) => (output += b.toString()));
      const exited = new Promise<void>((r) => child.on('close', () => r()));
      // Accepted credentials reach the next rule: no number in the Request-URI, 484.
      const accepted = (): boolean => refusedRules.slice(seen).some((e) => e.rule === 'termination-bad-number');
      const banned = (): boolean => logs.some((l) => l.includes('source banned') && l.includes('"source":"127.0.0.1"'));
      let deadline = Date.now() + ms;
      let sawBan = false;
      while (!accepted() && Date.now() < deadline && child.exitCode === null) {
        if (!sawBan && banned()) {
          sawBan = true;
          deadline = Math.min(deadline, Date.now() + afterBanMs);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGKILL');
      await exited;
      return { output, accepted: accepted() };
    };
    const words = Array.from({ length: 100 }, (_, i) => `wrong${i}`);
    // Control: a list of nothing but the right password is found at once — svcrack reaches this realm and host.
    const control = await svcrack('control', [PASSWORD, PASSWORD, PASSWORD], 8_000);
    expect(control.accepted, control.output).toBe(true);
    const bansBefore = await metric('carillon_sip_auth_bans_total{scope="source"}');
    const failuresBefore = await metric('carillon_sip_auth_failures_total{reason="wrong_response"}');
    const refusedBefore = await metric('carillon_sip_auth_banned_requests_total{scope="source"}');
    // The right password 60th. svcrack never ACKs, so it answers retransmitted copies of old
    // challenges too (stale: not looked at); only five guesses are ever checked before the ban.
    const attack = await svcrack('attack', [...words.slice(0, 59), PASSWORD, ...words.slice(59)], 10_000, 1_000);
    expect(attack.accepted, attack.output).toBe(false);
    expect(attack.output).not.toMatch(/The password for/);
    expect((await metric('carillon_sip_auth_failures_total{reason="wrong_response"}')) - failuresBefore).toBe(5);
    expect((await metric('carillon_sip_auth_bans_total{scope="source"}')) - bansBefore).toBe(1);
    // For the second it went on after the ban it kept asking and got nothing but refusals.
    expect((await metric('carillon_sip_auth_banned_requests_total{scope="source"}')) - refusedBefore).toBeGreaterThan(5);
    await t.waitIdle();
  });
});
