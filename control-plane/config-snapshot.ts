import type { Store } from './store/store.ts';

/**
 * The configuration signaling reads (DESIGN.md): an immutable snapshot of everything calls need
 * — voice connectors with their termination, origination, logging and streaming documents and
 * digest credentials, groups, and which voice connector or group each number belongs to —
 * rebuilt from the store after every change and handed to listeners. Readers never see a
 * half-applied change: a snapshot is built whole, then swapped in.
 */
export interface VoiceConnectorConfig {
  readonly id: string;
  readonly name: string;
  readonly awsRegion: string;
  readonly requireEncryption: boolean;
  /** Configuration documents by kind, in the API's own shape. */
  readonly documents: Readonly<Record<string, unknown>>;
  readonly credentials: readonly { readonly username: string; readonly realm: string; readonly ha1Md5: string; readonly ha1Sha256: string }[];
}

export interface CarrierConfig {
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: 'UDP' | 'TCP' | 'TLS';
  readonly priority: number;
  readonly weight: number;
  readonly prefixes: readonly string[];
  readonly credentials: { readonly username: string; readonly password: string } | undefined;
}

export interface NumberConfig {
  readonly kind: 'VoiceConnectorId' | 'VoiceConnectorGroupId';
  readonly id: string;
  /** The number's own calling name (CNAM), if set. */
  readonly callingName: string | undefined;
}

export interface ConfigSnapshot {
  /** Increases by one with every rebuild. */
  readonly generation: number;
  readonly voiceConnectors: ReadonlyMap<string, VoiceConnectorConfig>;
  readonly groups: ReadonlyMap<string, readonly { readonly voiceConnectorId: string; readonly priority: number }[]>;
  /** E.164 → the voice connector or group it is associated with. */
  readonly numbers: ReadonlyMap<string, NumberConfig>;
  /** Upstream gateways to the phone network, by priority then id. */
  readonly carriers: readonly CarrierConfig[];
  /** The account's default calling name (UpdatePhoneNumberSettings), if set. */
  readonly defaultCallingName: string | undefined;
  /** The CDR bucket of the global settings (UpdateGlobalSettings VoiceConnector.CdrBucket), if set. */
  readonly cdrBucket: string | undefined;
}

/** The configuration with nothing in it (the control plane off, or not read yet). */
export const EMPTY_SNAPSHOT: ConfigSnapshot = Object.freeze({ generation: 0, voiceConnectors: new Map(), groups: new Map(), numbers: new Map(), carriers: [], defaultCallingName: undefined, cdrBucket: undefined });

export type SnapshotListener = (s: ConfigSnapshot) => void;

export class ConfigSnapshots {
  readonly #store: Store;
  readonly #listeners = new Set<SnapshotListener>();
  #current: ConfigSnapshot = EMPTY_SNAPSHOT;
  #rebuilding: Promise<void> | undefined;
  #again = false;

  constructor(store: Store) {
    this.#store = store;
  }

  get current(): ConfigSnapshot {
    return this.#current;
  }

  onChange(listener: SnapshotListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Rebuilds after a change; changes arriving during a rebuild coalesce into one more. */
  refresh(): Promise<void> {
    if (this.#rebuilding !== undefined) {
      this.#again = true;
      return this.#rebuilding;
    }
    this.#rebuilding = (async () => {
      do {
        this.#again = false;
        const next = await this.#build(this.#current.generation + 1);
        this.#current = next;
        for (const l of this.#listeners) l(next);
      } while (this.#again);
    })().finally(() => {
      this.#rebuilding = undefined;
    });
    return this.#rebuilding;
  }

  async #build(generation: number): Promise<ConfigSnapshot> {
    const db = this.#store.db;
    const [vcs, docs, creds, groups, numbers, carriers, callingName, global] = await Promise.all([
      db.selectFrom('voice_connectors').selectAll().execute(),
      db.selectFrom('voice_connector_documents').selectAll().execute(),
      db.selectFrom('termination_credentials').selectAll().execute(),
      db.selectFrom('voice_connector_groups').selectAll().execute(),
      db.selectFrom('phone_numbers').select(['e164', 'associations', 'calling_name']).where('status', '=', 'Assigned').execute(),
      db.selectFrom('carriers').selectAll().orderBy('priority').orderBy('id').execute(),
      db.selectFrom('settings').select('value').where('key', '=', 'calling-name').executeTakeFirst(),
      db.selectFrom('settings').select('value').where('key', '=', 'global').executeTakeFirst(),
    ]);
    const voiceConnectors = new Map<string, VoiceConnectorConfig>();
    for (const v of vcs) {
      const documents: Record<string, unknown> = {};
      for (const d of docs) if (d.voice_connector_id === v.id) documents[d.kind] = Object.freeze(JSON.parse(d.body) as unknown);
      voiceConnectors.set(
        v.id,
        Object.freeze({
          id: v.id,
          name: v.name,
          awsRegion: v.aws_region,
          requireEncryption: v.require_encryption === 1,
          documents: Object.freeze(documents),
          credentials: Object.freeze(creds.filter((c) => c.voice_connector_id === v.id).map((c) => Object.freeze({ username: c.username, realm: c.realm, ha1Md5: c.ha1_md5, ha1Sha256: c.ha1_sha256 }))),
        }),
      );
    }
    const groupMap = new Map<string, readonly { voiceConnectorId: string; priority: number }[]>();
    for (const g of groups) {
      const items = (JSON.parse(g.items) as { VoiceConnectorId: string; Priority: number }[]).map((i) => Object.freeze({ voiceConnectorId: i.VoiceConnectorId, priority: i.Priority }));
      groupMap.set(g.id, Object.freeze(items.sort((a, b) => a.priority - b.priority)));
    }
    const numberMap = new Map<string, NumberConfig>();
    for (const n of numbers) {
      const a = (JSON.parse(n.associations) as { Name: string; Value: string }[])[0];
      if (a !== undefined && (a.Name === 'VoiceConnectorId' || a.Name === 'VoiceConnectorGroupId')) numberMap.set(n.e164, Object.freeze({ kind: a.Name, id: a.Value, callingName: n.calling_name ?? undefined }));
    }
    const carrierList = carriers.map((c) =>
      Object.freeze({
        id: c.id,
        name: c.name,
        host: c.host,
        port: c.port,
        protocol: c.protocol as CarrierConfig['protocol'],
        priority: c.priority,
        weight: c.weight,
        prefixes: Object.freeze(JSON.parse(c.prefixes) as string[]),
        credentials: c.username === null || c.password === null ? undefined : Object.freeze({ username: c.username, password: c.password }),
      }),
    );
    const defaultCallingName = callingName === undefined || callingName.value === '' ? undefined : callingName.value;
    const cdrBucket = global === undefined ? undefined : (JSON.parse(global.value) as { VoiceConnector?: { CdrBucket?: string } }).VoiceConnector?.CdrBucket;
    return Object.freeze({ generation, voiceConnectors, groups: groupMap, numbers: numberMap, carriers: Object.freeze(carrierList), defaultCallingName, cdrBucket });
  }
}
