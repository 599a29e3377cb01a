import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../../common/clock.ts';
import { ADMIN_ACTIONS } from '../api/chime/policy.ts';
import type { Store } from './store.ts';

/** An access key pair with its allowed action patterns. */
export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly actions: readonly string[];
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Access key id (AKIA + 16 base32 characters) and a 40-character secret, from the crypto source. */
export function newAccessKey(randomBytes: (n: number) => Buffer, actions: readonly string[]): AccessKey {
  const id = [...randomBytes(16)].map((b) => UPPER[b % 32]).join('');
  const secret = randomBytes(30).toString('base64').replace(/\+/g, 'x').replace(/\//g, 'y');
  return { accessKeyId: `AKIA${id}`, secretAccessKey: secret, actions };
}

export async function putAccessKey(store: Store, key: AccessKey, clock: Clock): Promise<void> {
  await store.db.deleteFrom('access_keys').where('access_key_id', '=', key.accessKeyId).execute();
  await store.db
    .insertInto('access_keys')
    .values({ access_key_id: key.accessKeyId, secret_access_key: key.secretAccessKey, actions: JSON.stringify(key.actions), created_at: new Date(clock.nowMs()).toISOString() })
    .execute();
}

/** The admin key seeded at start, and the file it was written to when it was generated. */
export type SeededKey = AccessKey & { readonly file?: string };

/**
 * The first admin key (DESIGN.md): from CARILLON_ACCESS_KEY_ID / CARILLON_SECRET_ACCESS_KEY when
 * set, else — only while the store has no key at all — generated and written to
 * `<data>/admin-credentials.json` (mode 0600). Returns the key it seeded, if any.
 */
export async function seedAdminKey(store: Store, dataDir: string, env: NodeJS.ProcessEnv, randomBytes: (n: number) => Buffer, clock: Clock): Promise<SeededKey | undefined> {
  const id = env.CARILLON_ACCESS_KEY_ID;
  const secret = env.CARILLON_SECRET_ACCESS_KEY;
  if (id !== undefined && secret !== undefined && id !== '' && secret !== '') {
    const key = { accessKeyId: id, secretAccessKey: secret, actions: ADMIN_ACTIONS };
    await putAccessKey(store, key, clock);
    return key;
  }
  const any = await store.db.selectFrom('access_keys').select('access_key_id').limit(1).executeTakeFirst();
  if (any !== undefined) return undefined;
  const key = newAccessKey(randomBytes, ADMIN_ACTIONS);
  await putAccessKey(store, key, clock);
  const file = path.resolve(dataDir, 'admin-credentials.json');
  writeFileSync(file, `${JSON.stringify({ AccessKeyId: key.accessKeyId, SecretAccessKey: key.secretAccessKey }, null, 2)}\n`, { mode: 0o600 });
  return { ...key, file };
}
