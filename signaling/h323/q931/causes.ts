/**
 * Q.931 cause values and their SIP statuses both ways (RFC 3398 §7.2.4.1 for a cause Carillon
 * hears, §8.2.6.1 for a status it must say as a cause). The call model speaks SIP numbering
 * (common/call-leg.ts), so an H.323 leg maps at its edge.
 */

/** The cause values H.225.0 calls use, by name. */
export const CAUSE = {
  unallocatedNumber: 1,
  noRouteToDestination: 3,
  normalClearing: 16,
  userBusy: 17,
  noUserResponding: 18,
  noAnswer: 19,
  subscriberAbsent: 20,
  callRejected: 21,
  numberChanged: 22,
  destinationOutOfOrder: 27,
  invalidNumberFormat: 28,
  facilityRejected: 29,
  statusEnquiryResponse: 30,
  normalUnspecified: 31,
  noCircuitAvailable: 34,
  networkOutOfOrder: 38,
  temporaryFailure: 41,
  switchingEquipmentCongestion: 42,
  resourceUnavailable: 47,
  incomingCallsBarred: 55,
  bearerNotAuthorized: 57,
  bearerNotAvailable: 58,
  serviceNotAvailable: 63,
  bearerNotImplemented: 65,
  onlyRestrictedDigital: 70,
  serviceNotImplemented: 79,
  notMemberOfCug: 87,
  incompatibleDestination: 88,
  invalidMessage: 95,
  mandatoryIeMissing: 96,
  messageTypeNonExistent: 97,
  messageNotCompatibleWithState: 98,
  invalidIeContents: 100,
  messageNotCompatibleWithCallState: 101,
  recoveryOnTimerExpiry: 102,
  protocolError: 111,
  interworking: 127,
} as const;

/** RFC 3398 §7.2.4.1: the SIP status of a cause (16 is a normal end, not a refusal: 200 stands for it here). */
const TO_SIP: ReadonlyMap<number, number> = new Map([
  [1, 404], [2, 404], [3, 404], [16, 200], [17, 486], [18, 408], [19, 480], [20, 480], [21, 403], [22, 410], [23, 410],
  [26, 404], [27, 502], [28, 484], [29, 501], [31, 480], [34, 503], [38, 503], [41, 503], [42, 503], [47, 503],
  [55, 403], [57, 403], [58, 503], [65, 488], [70, 488], [79, 501], [87, 403], [88, 503], [102, 504], [111, 500], [127, 500],
]);

/** RFC 3398 §8.2.6.1: the cause of a SIP status. */
const TO_CAUSE: ReadonlyMap<number, number> = new Map([
  [400, 41], [401, 21], [402, 21], [403, 21], [404, 1], [405, 63], [406, 79], [407, 21], [408, 102], [410, 22],
  [413, 127], [414, 127], [415, 79], [416, 127], [420, 127], [421, 127], [423, 127], [480, 18], [481, 41], [482, 25],
  [483, 25], [484, 28], [485, 1], [486, 17], [487, 16], [488, 127], [500, 41], [501, 79], [502, 38], [503, 41], [504, 102],
  [505, 127], [513, 127], [600, 17], [603, 21], [604, 1], [606, 58],
]);

/** The SIP status a cause stands for; the cause's class decides for values the table leaves out. */
export function sipStatusOfCause(cause: number): number {
  const s = TO_SIP.get(cause);
  if (s !== undefined) return s;
  if (cause < 32) return 480; // normal event class
  if (cause < 48) return 503; // resource unavailable class
  if (cause < 80) return 501; // service or option not available / implemented
  return 500;
}

/** The cause a SIP status is said as (2xx: normal clearing); the status class decides for ones the table leaves out. */
export function causeOfSipStatus(status: number): number {
  if (status >= 200 && status < 300) return CAUSE.normalClearing;
  const c = TO_CAUSE.get(status);
  if (c !== undefined) return c;
  if (status >= 600) return CAUSE.callRejected;
  if (status >= 500) return CAUSE.temporaryFailure;
  return CAUSE.interworking;
}

const NAME_OF_CAUSE: ReadonlyMap<number, keyof typeof CAUSE> = new Map(Object.entries(CAUSE).map(([k, v]) => [v, k as keyof typeof CAUSE]));

/** The name of a cause value in the table above (for logs and metrics labels); undefined for others. */
export function causeName(cause: number): keyof typeof CAUSE | undefined {
  return NAME_OF_CAUSE.get(cause);
}
