import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { Generated, Migration, MigrationProvider } from 'kysely';
import pg from 'pg';

/**
 * The durable store: Kysely over better-sqlite3 (default, one WAL file in the data dir) or
 * PostgreSQL (`--db postgres://…`), one schema and one set of migrations for both.
 * Timestamps are ISO-8601 strings; booleans are 0/1 integers (portable across both).
 */
export interface VoiceConnectorTable {
  id: string;
  name: string;
  aws_region: string;
  require_encryption: number;
  integration_type: string | null;
  network_type: string | null;
  created_at: string;
  updated_at: string;
  /** Bumped by every update: conflicting concurrent updates fail instead of half-applying. */
  version: number;
}

export interface AccessKeyTable {
  access_key_id: string;
  /** SigV4 needs the secret itself to recompute signatures. */
  secret_access_key: string;
  /** JSON array of action patterns (`chime:*`, `chime:List*`, `chime:GetVoiceConnector`). */
  actions: string;
  created_at: string;
}

export interface TagTable {
  resource_arn: string;
  key: string;
  value: string;
}

export interface AuditTable {
  id: Generated<number>;
  at: string;
  access_key_id: string | null;
  source_ip: string;
  action: string;
  resource: string | null;
  status: number;
  outcome: string;
}

/** One configuration document per voice connector and kind (termination, origination, …). */
export interface VoiceConnectorDocumentTable {
  voice_connector_id: string;
  kind: string;
  /** JSON in the API's own shape. */
  body: string;
  updated_at: string;
}

/** SIP digest credentials for termination: hashes only (RFC 7616 HA1), never the password. */
export interface TerminationCredentialTable {
  voice_connector_id: string;
  username: string;
  realm: string;
  ha1_md5: string;
  ha1_sha256: string;
  created_at: string;
}

export interface VoiceConnectorGroupTable {
  id: string;
  name: string;
  /** JSON array of { VoiceConnectorId, Priority }. */
  items: string;
  call_distribution_type: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

/**
 * Every number Carillon knows: `Available` in the imported inventory, then a Chime
 * PhoneNumberStatus once ordered (Unassigned, Assigned, DeleteInProgress …).
 */
export interface PhoneNumberTable {
  e164: string;
  type: string;
  country: string;
  state: string | null;
  city: string | null;
  status: string;
  product_type: string | null;
  order_id: string | null;
  calling_name: string | null;
  calling_name_status: string;
  calling_name_updated_at: string | null;
  name: string | null;
  /** JSON array of { Name, Value, AssociatedTimestamp }. */
  associations: string;
  created_at: string;
  updated_at: string;
  deletion_at: string | null;
}

export interface PhoneNumberOrderTable {
  id: string;
  product_type: string;
  status: string;
  order_type: string;
  /** JSON array of { E164PhoneNumber, Status }. */
  numbers: string;
  created_at: string;
  updated_at: string;
}

export interface SettingTable {
  key: string;
  value: string;
  updated_at: string;
}

/** Legacy chime accounts (Team, or Enterprise set by an admin); deleted ones keep a tombstone. */
export interface AccountTable {
  id: string;
  name: string;
  type: string;
  status: string;
  default_license: string;
  /** JSON AccountSettings. */
  settings: string;
  created_at: string;
  deleted_at: string | null;
  /** Prompt language of the account's meetings (its users' personal rooms): en-US, pt-BR, or null for the server default. */
  meeting_language: string | null;
}

export interface UserTable {
  id: string;
  account_id: string;
  email: string;
  display_name: string | null;
  license: string;
  user_type: string;
  registration_status: string;
  invitation_status: string;
  invited_at: string;
  registered_at: string | null;
  /** 10-digit personal meeting PIN. */
  pin: string;
  /** JSON telephony settings. */
  settings: string;
}

/** Carillon's upstream gateways to the phone network (issue 5 `/carillon/v1/carriers`). */
export interface CarrierTable {
  id: string;
  name: string;
  host: string;
  port: number;
  protocol: string;
  priority: number;
  weight: number;
  /** JSON list of E.164 prefixes this carrier takes ('+1'); empty = every destination. */
  prefixes: string;
  /** Credentials Carillon answers the carrier's digest challenges with (never returned by the API). */
  username: string | null;
  password: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

/** Chime SDK meetings (control-plane/api/meetings): the SDK's UUID plus Carillon's dial-in IDs. */
export interface MeetingTable {
  id: string;
  external_meeting_id: string;
  media_region: string;
  meeting_host_id: string | null;
  /** The CreateMeeting ClientRequestToken: the same token answers the same meeting. */
  client_request_token: string | null;
  /** JSON MeetingFeatures as sent, or null. */
  features: string | null;
  primary_meeting_id: string | null;
  /** JSON array of TenantIds. */
  tenant_ids: string;
  /** 10-digit dial-in meeting ID, random, unique. */
  meeting_pin: string;
  /** 13-digit host ID, random, unique. */
  host_pin: string;
  created_at: string;
  /** 1: participants wait until a host or moderator starts the meeting (migration 0008). */
  moderated: number;
  /** 4–8 digits that make a participant moderator, or null. */
  moderator_passcode: string | null;
  /** Most dial-in participants at once, 2..250 (default 250). */
  max_participants: number;
  /** Prompt language (en-US, pt-BR), or null for the default. */
  language: string | null;
  /** 1: join and leave tones are played (default). */
  join_tones: number;
}

/** Phone numbers (E.164) an admin assigned to meeting dial-in: a carrier's call to one reaches the meeting IVR. */
export interface MeetingDialInNumberTable {
  e164: string;
  created_at: string;
}

export interface AttendeeTable {
  meeting_id: string;
  id: string;
  external_user_id: string;
  join_token: string;
  /** JSON { Audio, Video, Content }. */
  capabilities: string;
  created_at: string;
}

export interface StoreSchema {
  meetings: MeetingTable;
  meeting_dial_in_numbers: MeetingDialInNumberTable;
  attendees: AttendeeTable;
  carriers: CarrierTable;
  accounts: AccountTable;
  users: UserTable;
  voice_connectors: VoiceConnectorTable;
  phone_numbers: PhoneNumberTable;
  phone_number_orders: PhoneNumberOrderTable;
  settings: SettingTable;
  voice_connector_groups: VoiceConnectorGroupTable;
  voice_connector_documents: VoiceConnectorDocumentTable;
  termination_credentials: TerminationCredentialTable;
  access_keys: AccessKeyTable;
  tags: TagTable;
  audit: AuditTable;
}

export type StoreDb = Kysely<StoreSchema>;

const migrations = (dialect: 'sqlite' | 'postgres'): Record<string, Migration> => ({
  '0001-initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('voice_connectors')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(256)', (c) => c.notNull())
        .addColumn('aws_region', 'varchar(32)', (c) => c.notNull())
        .addColumn('require_encryption', 'integer', (c) => c.notNull())
        .addColumn('integration_type', 'varchar(64)')
        .addColumn('network_type', 'varchar(32)')
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('access_keys')
        .addColumn('access_key_id', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('secret_access_key', 'varchar(256)', (c) => c.notNull())
        .addColumn('actions', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('tags')
        .addColumn('resource_arn', 'varchar(512)', (c) => c.notNull())
        .addColumn('key', 'varchar(128)', (c) => c.notNull())
        .addColumn('value', 'varchar(256)', (c) => c.notNull())
        .addPrimaryKeyConstraint('tags_pk', ['resource_arn', 'key'])
        .execute();
      await db.schema
        .createTable('audit')
        .addColumn('id', dialect === 'sqlite' ? 'integer' : 'serial', (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
        .addColumn('at', 'varchar(32)', (c) => c.notNull())
        .addColumn('access_key_id', 'varchar(128)')
        .addColumn('source_ip', 'varchar(64)', (c) => c.notNull())
        .addColumn('action', 'varchar(128)', (c) => c.notNull())
        .addColumn('resource', 'varchar(512)')
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('outcome', 'varchar(128)', (c) => c.notNull())
        .execute();
    },
  },
  '0002-voice-connector-documents': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('voice_connector_documents')
        .addColumn('voice_connector_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('kind', 'varchar(32)', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('voice_connector_documents_pk', ['voice_connector_id', 'kind'])
        .execute();
      await db.schema
        .createTable('termination_credentials')
        .addColumn('voice_connector_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('username', 'varchar(128)', (c) => c.notNull())
        .addColumn('realm', 'varchar(256)', (c) => c.notNull())
        .addColumn('ha1_md5', 'varchar(32)', (c) => c.notNull())
        .addColumn('ha1_sha256', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('termination_credentials_pk', ['voice_connector_id', 'username'])
        .execute();
    },
  },
  '0003-voice-connector-groups': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('voice_connector_groups')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(256)', (c) => c.notNull())
        .addColumn('items', 'text', (c) => c.notNull())
        .addColumn('call_distribution_type', 'varchar(64)')
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  '0004-phone-numbers': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('phone_numbers')
        .addColumn('e164', 'varchar(16)', (c) => c.primaryKey())
        .addColumn('type', 'varchar(16)', (c) => c.notNull())
        .addColumn('country', 'varchar(2)', (c) => c.notNull())
        .addColumn('state', 'varchar(64)')
        .addColumn('city', 'varchar(128)')
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('product_type', 'varchar(32)')
        .addColumn('order_id', 'varchar(36)')
        .addColumn('calling_name', 'varchar(15)')
        .addColumn('calling_name_status', 'varchar(32)', (c) => c.notNull())
        .addColumn('calling_name_updated_at', 'varchar(32)')
        .addColumn('name', 'varchar(256)')
        .addColumn('associations', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('deletion_at', 'varchar(32)')
        .execute();
      await db.schema
        .createTable('phone_number_orders')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('product_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('order_type', 'varchar(16)', (c) => c.notNull())
        .addColumn('numbers', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('settings')
        .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .execute();
    },
  },
  '0005-accounts-users': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(100)', (c) => c.notNull())
        .addColumn('type', 'varchar(32)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('default_license', 'varchar(16)', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('deleted_at', 'varchar(32)')
        .execute();
      await db.schema
        .createTable('users')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('account_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('email', 'varchar(256)', (c) => c.notNull())
        .addColumn('display_name', 'varchar(256)')
        .addColumn('license', 'varchar(16)', (c) => c.notNull())
        .addColumn('user_type', 'varchar(16)', (c) => c.notNull())
        .addColumn('registration_status', 'varchar(16)', (c) => c.notNull())
        .addColumn('invitation_status', 'varchar(16)', (c) => c.notNull())
        .addColumn('invited_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('registered_at', 'varchar(32)')
        .addColumn('pin', 'varchar(10)', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0006-carriers': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('carriers')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(256)', (c) => c.notNull())
        .addColumn('host', 'varchar(253)', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('protocol', 'varchar(8)', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('weight', 'integer', (c) => c.notNull())
        .addColumn('prefixes', 'text', (c) => c.notNull())
        .addColumn('username', 'varchar(256)')
        .addColumn('password', 'varchar(256)')
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  '0007-meetings': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('meetings')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('external_meeting_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('media_region', 'varchar(64)', (c) => c.notNull())
        .addColumn('meeting_host_id', 'varchar(64)')
        .addColumn('client_request_token', 'varchar(64)')
        .addColumn('features', 'text')
        .addColumn('primary_meeting_id', 'varchar(36)')
        .addColumn('tenant_ids', 'text', (c) => c.notNull())
        .addColumn('meeting_pin', 'varchar(10)', (c) => c.notNull())
        .addColumn('host_pin', 'varchar(13)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('meetings_meeting_pin').unique().on('meetings').column('meeting_pin').execute();
      await db.schema.createIndex('meetings_host_pin').unique().on('meetings').column('host_pin').execute();
      await db.schema.createIndex('meetings_client_request_token').unique().on('meetings').column('client_request_token').execute();
      await db.schema
        .createTable('attendees')
        .addColumn('meeting_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('id', 'varchar(36)', (c) => c.notNull())
        .addColumn('external_user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('join_token', 'varchar(128)', (c) => c.notNull())
        .addColumn('capabilities', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('attendees_pk', ['meeting_id', 'id'])
        .execute();
      await db.schema.createIndex('attendees_external_user').unique().on('attendees').columns(['meeting_id', 'external_user_id']).execute();
    },
  },
  '0008-meeting-settings': {
    async up(db: Kysely<unknown>): Promise<void> {
      // One column per statement: SQLite's ALTER TABLE adds one column at a time.
      await db.schema.alterTable('meetings').addColumn('moderated', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('meetings').addColumn('moderator_passcode', 'varchar(8)').execute();
      await db.schema.alterTable('meetings').addColumn('max_participants', 'integer', (c) => c.notNull().defaultTo(250)).execute();
      await db.schema.alterTable('meetings').addColumn('language', 'varchar(16)').execute();
      await db.schema.alterTable('meetings').addColumn('join_tones', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await db.schema.alterTable('accounts').addColumn('meeting_language', 'varchar(16)').execute();
      await db.schema
        .createTable('meeting_dial_in_numbers')
        .addColumn('e164', 'varchar(16)', (c) => c.primaryKey())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .execute();
    },
  },
});

export interface Store {
  readonly db: StoreDb;
  readonly dialect: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

/**
 * Opens the store named by `url` (a `postgres://` URL, or a SQLite file path; default
 * `<data>/carillon.sqlite`) and brings its schema up to date. `pgSchema` puts every table in
 * that PostgreSQL schema (tests use a fresh one per run).
 */
export async function openStore(url: string, opts: { pgSchema?: string } = {}): Promise<Store> {
  let db: StoreDb;
  let dialect: Store['dialect'];
  if (/^postgres(ql)?:\/\//.test(url)) {
    const schema = opts.pgSchema;
    const pool = new pg.Pool({ connectionString: url, max: 10, ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }) });
    if (schema !== undefined) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    }
    db = new Kysely<StoreSchema>({ dialect: new PostgresDialect({ pool }) });
    dialect = 'postgres';
  } else {
    mkdirSync(path.dirname(url), { recursive: true });
    const sqlite = new Database(url);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<StoreSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
    dialect = 'sqlite';
  }
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  // With a schema of its own, the migration bookkeeping lives there too (Kysely otherwise looks
  // for it across every schema and can find another store's).
  const schema = dialect === 'postgres' ? opts.pgSchema : undefined;
  const { error } = await new Migrator({ db, provider, ...(schema === undefined ? {} : { migrationTableSchema: schema }) }).migrateToLatest();
  if (error !== undefined) {
    await db.destroy();
    throw error instanceof Error ? error : new Error(String(error));
  }
  return { db, dialect, close: () => db.destroy() };
}

/** Drops a PostgreSQL schema made for a test run. */
export async function dropPgSchema(url: string, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await pool.end();
  }
}

export { sql };
