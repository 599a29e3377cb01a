import { isIP } from 'node:net';
import type { CallLegControl, LegEvents, LegSetup, Placement, PlacementAttempt } from '../../../common/call-leg.ts';
import type { NextHop } from '../../../common/route.ts';
import { requestUriOf } from '../resolve/hop-uri.ts';
import { servedTransports } from '../resolve/sip-resolver.ts';
import type { SipHop, SipLocate } from '../resolve/sip-resolver.ts';
import type { TransportHub } from '../transport/transport-hub.ts';
import type { SipUserAgent } from './sip-user-agent.ts';

/**
 * Where a call's next hop is placed in SIP: its Request-URI (resolve/hop-uri.ts), and the places
 * RFC 3263 finds for it — an IP literal is its own place, a name is
 * looked up (NAPTR, SRV, A) — each a callee's leg of the user agent when tried.
 */

const DEFAULT_PORT = { udp: 5060, tcp: 5060, tls: 5061 } as const;

export class SipPlacer {
  readonly #ua: SipUserAgent;
  readonly #hub: TransportHub;
  readonly #locate: SipLocate;

  constructor(ua: SipUserAgent, hub: TransportHub, locate: SipLocate) {
    this.#ua = ua;
    this.#hub = hub;
    this.#locate = locate;
  }

  reachable(hop: NextHop): boolean {
    return hop.transport === undefined ? servedTransports(this.#hub).size > 0 : this.#ua.contactFor(hop.transport) !== undefined;
  }

  newWireCallId(): string {
    return this.#ua.newCallId();
  }

  locate(hop: NextHop): Placement | Promise<Placement> {
    const uri = requestUriOf(hop);
    const literal = hop.host.startsWith('[') ? hop.host.slice(1, -1) : hop.host;
    if (isIP(literal) !== 0) {
      const transport = hop.transport ?? 'udp';
      return { ok: true, attempts: [this.#attempt({ transport, address: literal, port: hop.port ?? DEFAULT_PORT[transport] }, uri)] };
    }
    return this.#locate(uri, servedTransports(this.#hub)).then((loc): Placement => {
      if (!loc.ok) return loc.reason === 'no-transport' ? { ok: false, status: 503, reason: 'Transport Unavailable' } : { ok: false, status: 503, reason: 'Next Hop Not Resolvable', retryAfterSec: 30 };
      return { ok: true, attempts: loc.hops.map((h) => this.#attempt(h, uri)) };
    });
  }

  #attempt(hop: SipHop, requestUri: string): PlacementAttempt {
    return {
      place: (setup: LegSetup, events: LegEvents): CallLegControl | undefined => {
        const leg = this.#ua.calleeLeg(hop.transport, setup.wireCallId);
        if (leg === undefined) return undefined;
        leg.events = events;
        leg.place({
          dest: { transport: hop.transport, address: hop.address, port: hop.port },
          requestUri,
          origin: setup.origin,
          caller: setup.caller,
          offer: setup.offer,
          offerReliable: setup.offerReliable,
          credentials: setup.credentials,
        });
        return leg;
      },
    };
  }
}
