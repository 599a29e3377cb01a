import dgram from 'node:dgram';
import net from 'node:net';
import { responseTo } from './raw-sip.ts';
import { SipMutator } from './sip-mutator.ts';

/**
 * Drives a SIP mutation fuzz run against a Carillon on loopback: mutated requests over UDP and
 * TCP from a fuzzing peer, and a callee that answers the INVITEs Carillon routes to it with
 * mutated answers (and 200 to its BYE/CANCEL so calls end). Bounded in count and paced, so the
 * kernel does not just drop most of it; stops by itself.
 */
export interface FuzzTarget {
  readonly udpPort: number;
  readonly tcpPort: number;
}

export interface FuzzCounts {
  udpSent: number;
  tcpSent: number;
  /** Answers the fuzzing peer got, by class (1 = 1xx … 6 = 6xx). */
  readonly answers: number[];
  calleeInvites: number;
  calleeAnswers: number;
  tcpConnections: number;
}

/** The callee a static route sends fuzzed calls to. */
export class FuzzCallee {
  readonly socket = dgram.createSocket('udp4');
  invites = 0;
  answers = 0;
  #mutator: SipMutator | undefined;
  #target = 0;

  async open(): Promise<number> {
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r));
    this.socket.on('error', () => undefined);
    this.socket.on('message', (buf) => this.#onMessage(buf));
    return this.socket.address().port;
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Answers from now on with `mutator`'s answers, sent to Carillon's UDP port. */
  answerWith(mutator: SipMutator, carillonUdp: number): void {
    this.#mutator = mutator;
    this.#target = carillonUdp;
  }

  #onMessage(buf: Buffer): void {
    const text = buf.toString('latin1');
    const m = this.#mutator;
    if (m === undefined) return;
    if (text.startsWith('INVITE ')) {
      this.invites++;
      // A provisional first sometimes, then the (mutated) answer.
      for (let i = 0, n = 1 + m.rng.int(2); i < n; i++) this.#send(m.answer(text, this.port));
    } else if (text.startsWith('BYE ') || text.startsWith('CANCEL ') || text.startsWith('OPTIONS ') || text.startsWith('PRACK ') || text.startsWith('UPDATE ')) {
      this.#send(Buffer.from(responseTo(text, 200), 'latin1'));
    }
  }

  #send(b: Buffer): void {
    this.answers++;
    this.socket.send(b, this.#target, '127.0.0.1');
  }

  close(): void {
    this.socket.close();
  }
}

export async function runSipFuzz(target: FuzzTarget, opts: { seed: number; udp: number; tcp: number; routedNumber: string; callee?: FuzzCallee }): Promise<FuzzCounts> {
  const mutator = new SipMutator(opts.seed);
  opts.callee?.answerWith(mutator, target.udpPort);
  const counts: FuzzCounts = { udpSent: 0, tcpSent: 0, answers: [0, 0, 0, 0, 0, 0, 0], calleeInvites: 0, calleeAnswers: 0, tcpConnections: 0 };
  const note = (text: string): void => {
    for (const m of text.matchAll(/(?:^|\n)SIP\/2\.0 ([1-6])\d\d /g)) counts.answers[Number(m[1])] = (counts.answers[Number(m[1])] ?? 0) + 1;
  };

  const udp = dgram.createSocket('udp4');
  udp.on('error', () => undefined);
  udp.on('message', (b) => note(b.toString('latin1')));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  const udpPeer = { transport: 'UDP' as const, port: udp.address().port, routedNumber: opts.routedNumber };
  for (let i = 0; i < opts.udp; i++) {
    udp.send(mutator.request(udpPeer), target.udpPort, '127.0.0.1');
    counts.udpSent++;
    // Paced: 100 datagrams, then let both ends drain their sockets.
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 4));
  }

  // TCP: several messages per connection; a connection Carillon closes (framing faults, oversize) is replaced.
  let sock: net.Socket | undefined;
  const connect = async (): Promise<net.Socket> => {
    const s = net.connect({ host: '127.0.0.1', port: target.tcpPort });
    s.on('error', () => undefined);
    s.on('data', (b: Buffer) => note(b.toString('latin1')));
    await new Promise<void>((resolve) => {
      s.once('connect', () => resolve());
      s.once('close', () => resolve());
    });
    counts.tcpConnections++;
    return s;
  };
  for (let i = 0; i < opts.tcp; i++) {
    if (sock === undefined || sock.destroyed || i % 50 === 0) {
      sock?.destroy();
      sock = await connect();
    }
    const peer = { transport: 'TCP' as const, port: sock.localPort ?? 5060, routedNumber: opts.routedNumber };
    const bytes = mutator.request(peer);
    // Sometimes split mid-message, as a stream may deliver it.
    if (mutator.rng.chance(0.2) && bytes.length > 2) {
      const at = 1 + mutator.rng.int(bytes.length - 1);
      sock.write(bytes.subarray(0, at));
      await new Promise((r) => setImmediate(r));
      if (!sock.destroyed) sock.write(bytes.subarray(at));
    } else sock.write(bytes);
    counts.tcpSent++;
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 2));
  }
  await new Promise((r) => setTimeout(r, 200));
  sock?.destroy();
  udp.close();
  counts.calleeInvites = opts.callee?.invites ?? 0;
  counts.calleeAnswers = opts.callee?.answers ?? 0;
  return counts;
}
