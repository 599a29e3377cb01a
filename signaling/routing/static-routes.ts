import type { DialedTarget, NextHop, RouteDecision } from '../../common/route.ts';

/**
 * Direct peering routes from the config file (first match wins). Each route's target was read
 * once, when the configuration was loaded, into the next hop it names (a bad target is a
 * configuration fault at start, never a call that fails later).
 */
export interface StaticRoute {
  readonly match: { readonly userPrefix?: string | undefined; readonly host?: string | undefined };
  readonly hop: NextHop;
}

/** Pure: the first route whose every given condition holds; none → 404. */
export function routeStatic(routes: readonly StaticRoute[], dialed: DialedTarget): RouteDecision {
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i] as StaticRoute;
    const { userPrefix, host } = r.match;
    if (userPrefix !== undefined && (dialed.user === undefined || !dialed.user.startsWith(userPrefix))) continue;
    if (host !== undefined && host.toLowerCase() !== dialed.host) continue;
    return { kind: 'forward', hop: r.hop, alternates: [], rule: `routes[${i}]` };
  }
  return { kind: 'reject', status: 404, rule: 'no-route' };
}
