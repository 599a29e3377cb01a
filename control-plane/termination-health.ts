import type { TerminationHealthDocument } from '../common/config-documents.ts';
import type { Store } from './store/store.ts';

/**
 * GetVoiceConnectorTerminationHealth: the time and source address of the last SIP OPTIONS a
 * customer's PBX sent to its voice connector (reference §2.2). Kept per voice connector and
 * written to the store at most once per `minIntervalMs` each, so a PBX pinging every second
 * costs one write per interval, not one per ping.
 */
export class TerminationHealthRecorder {
  readonly #store: Store;
  readonly #minIntervalMs: number;
  readonly #lastWriteMs = new Map<string, number>();

  constructor(store: Store, minIntervalMs = 5_000) {
    this.#store = store;
    this.#minIntervalMs = minIntervalMs;
  }

  /** Records an OPTIONS from `source` to voice connector `vcId` at `nowMs`; resolves when stored (or skipped). */
  async record(vcId: string, source: string, nowMs: number): Promise<void> {
    const last = this.#lastWriteMs.get(vcId);
    if (last !== undefined && nowMs - last < this.#minIntervalMs) return;
    this.#lastWriteMs.set(vcId, nowMs);
    const at = new Date(nowMs).toISOString();
    const doc: TerminationHealthDocument = { Timestamp: at, Source: source };
    const body = JSON.stringify(doc);
    await this.#store.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('voice_connector_documents').where('voice_connector_id', '=', vcId).where('kind', '=', 'termination-health').execute();
      await tx.insertInto('voice_connector_documents').values({ voice_connector_id: vcId, kind: 'termination-health', body, updated_at: at }).execute();
    });
  }
}
