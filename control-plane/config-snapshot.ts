import Type from 'typebox';
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { isDocumentKind, readDocument } from '../common/config-documents.ts';
import type { DocumentKind, DocumentTypes, VoiceConnectorDocuments } from '../common/config-documents.ts';
import { EMPTY_SNAPSHOT } from '../common/config-snapshot.ts';
import type { CarrierConfig, CarrierProtocol, ConfigSnapshot, GroupMember, NumberConfig, VoiceConnectorConfig } from '../common/config-snapshot.ts';
import { CoalescedRebuild } from './coalesced-rebuild.ts';
import type { Store } from './store/store.ts';

/**
 * Builds the configuration snapshot signaling reads (its types: common/config-snapshot.ts) from
 * the store after every change and hands it to listeners. Each stored document is read back
 * through its kind's schema (common/config-documents.ts): a reader gets it typed.
 */
export type SnapshotListener = (s: ConfigSnapshot) => void;

export class ConfigSnapshots {
  readonly #store: Store;
  readonly #listeners = new Set<SnapshotListener>();
  #current: ConfigSnapshot = EMPTY_SNAPSHOT;
  readonly #rebuild = new CoalescedRebuild(async () => {
    const next = await this.#build(this.#current.generation + 1);
    this.#current = next;
    for (const l of this.#listeners) l(next);
  });

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
    return this.#rebuild.refresh();
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
      const documents = documentsOf(docs.filter((d) => d.voice_connector_id === v.id));
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
    const groupMap = new Map<string, readonly GroupMember[]>();
    for (const g of groups) {
      const items = jsonOf(g.items, isGroupItems, []).map((i) => Object.freeze({ voiceConnectorId: i.VoiceConnectorId, priority: i.Priority }));
      groupMap.set(g.id, Object.freeze(items.sort((a, b) => a.priority - b.priority)));
    }
    const numberMap = new Map<string, NumberConfig>();
    for (const n of numbers) {
      const a = jsonOf(n.associations, isAssociations, [])[0];
      if (a !== undefined && (a.Name === 'VoiceConnectorId' || a.Name === 'VoiceConnectorGroupId')) numberMap.set(n.e164, Object.freeze({ kind: a.Name, id: a.Value, callingName: n.calling_name ?? undefined }));
    }
    const carrierList = carriers.map((c): CarrierConfig =>
      Object.freeze({
        id: c.id,
        name: c.name,
        host: c.host,
        port: c.port,
        protocol: protocolOf(c.protocol),
        priority: c.priority,
        weight: c.weight,
        prefixes: Object.freeze(jsonOf(c.prefixes, isStrings, [])),
        credentials: c.username === null || c.password === null ? undefined : Object.freeze({ username: c.username, password: c.password }),
      }),
    );
    const defaultCallingName = callingName === undefined || callingName.value === '' ? undefined : callingName.value;
    const cdrBucket = global === undefined ? undefined : jsonOf(global.value, isGlobalSettings, {}).VoiceConnector?.CdrBucket;
    return Object.freeze({ generation, voiceConnectors, groups: groupMap, numbers: numberMap, carriers: Object.freeze(carrierList), defaultCallingName, cdrBucket });
  }
}

/** A voice connector's stored documents, each read through its kind's schema (unknown kinds and invalid ones left out). */
function documentsOf(rows: readonly { readonly kind: string; readonly body: string }[]): VoiceConnectorDocuments {
  const out: Partial<DocumentTypes> = {};
  const put = <K extends DocumentKind>(kind: K, body: string): void => {
    const doc = readDocument(kind, body);
    if (doc !== undefined) out[kind] = deepFreeze(doc);
  };
  for (const row of rows) if (isDocumentKind(row.kind)) put(row.kind, row.body);
  return Object.freeze(out);
}

/** Freezes a parsed JSON value through and through (a snapshot is shared by every reader). */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The stored JSON columns the snapshot reads, each with its schema. */
const checkOf = <S extends TSchema>(schema: S): ((v: unknown) => v is Static<S>) => {
  const c = Compile(schema);
  return (v: unknown): v is Static<S> => c.Check(v);
};
const isGroupItems = checkOf(Type.Array(Type.Object({ VoiceConnectorId: Type.String(), Priority: Type.Number() })));
const isAssociations = checkOf(Type.Array(Type.Object({ Name: Type.String(), Value: Type.String() })));
const isStrings = checkOf(Type.Array(Type.String()));
const isGlobalSettings = checkOf(Type.Object({ VoiceConnector: Type.Optional(Type.Object({ CdrBucket: Type.Optional(Type.String()) })) }));

/** A JSON column read as `T` when it holds one, else `fallback`. */
function jsonOf<T>(text: string, is: (v: unknown) => v is T, fallback: T): T {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return fallback;
  }
  return is(v) ? v : fallback;
}

function protocolOf(p: string): CarrierProtocol {
  const u = p.toUpperCase();
  return u === 'TCP' ? 'TCP' : u === 'TLS' ? 'TLS' : 'UDP';
}
