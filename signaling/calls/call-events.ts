import type { MediaQualityRecord } from '../../media/engine.ts';
import type { TrunkCall } from '../routing/route.ts';
import type { EndReason } from './call.ts';
import type { CallSummary, HeaderField } from './call-summary.ts';

/**
 * The internal call event bus: what happened to each call, in order, for the subscribers that
 * turn calls into metrics, CDRs, logs, streaming and webhooks. Listeners run synchronously and
 * must not throw into signaling: a listener that throws is reported and the rest still run.
 * Every event carries an immutable summary of the call taken when it happened (call-summary.ts).
 */
export type CallEvent =
  | { readonly type: 'refused'; readonly trunk: TrunkCall | undefined; readonly wireCallId: string | undefined; readonly status: number; readonly rule: string; readonly throttled: boolean }
  | { readonly type: 'started'; readonly call: CallSummary }
  | { readonly type: 'ringing'; readonly call: CallSummary; readonly status: number }
  | { readonly type: 'answered'; readonly call: CallSummary }
  /** A party changed the session in the call (a re-INVITE or UPDATE, `method`, relayed to the other). */
  | { readonly type: 'updated'; readonly call: CallSummary; readonly method: string; readonly headers: readonly HeaderField[] }
  | { readonly type: 'ended'; readonly call: CallSummary; readonly reason: EndReason; readonly status: number | undefined }
  /** After 'ended', once the media session is closed: the call's final quality record (undefined without media). */
  | { readonly type: 'quality'; readonly call: CallSummary; readonly record: MediaQualityRecord | undefined };

export type CallEventListener = (e: CallEvent) => void;

export class CallEvents {
  readonly #listeners = new Set<CallEventListener>();
  readonly #onError: (err: unknown) => void;

  constructor(onError: (err: unknown) => void) {
    this.#onError = onError;
  }

  on(listener: CallEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(e: CallEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.#onError(err);
      }
    }
  }
}
