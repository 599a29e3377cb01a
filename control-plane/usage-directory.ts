import type { Store } from './store/store.ts';

/**
 * The accounts and their users as the weekly usage report lists them (metrics/usage-report.ts
 * UsageAccount, the same shape; metrics never reads the store). A user's creation date is its
 * invitation (the API creates users by inviting them); Carillon keeps no logins, so last_login is
 * empty. Deleted accounts are left out.
 */
export interface DirectoryUser {
  readonly userId: string;
  readonly displayName: string;
  readonly email: string;
  readonly registrationStatus: string;
  readonly createdAtMs: number | undefined;
  readonly lastLoginMs: number | undefined;
}

export interface DirectoryAccount {
  readonly accountId: string;
  readonly name: string;
  readonly users: readonly DirectoryUser[];
}

const msOf = (iso: string | null): number | undefined => {
  if (iso === null) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
};

export async function usageDirectory(store: Store): Promise<DirectoryAccount[]> {
  const accounts = await store.db.selectFrom('accounts').select(['id', 'name']).where('deleted_at', 'is', null).orderBy('name').execute();
  const users = await store.db.selectFrom('users').select(['id', 'account_id', 'email', 'display_name', 'registration_status', 'invited_at']).execute();
  const byAccount = new Map<string, DirectoryUser[]>();
  for (const u of users) {
    let list = byAccount.get(u.account_id);
    if (list === undefined) byAccount.set(u.account_id, (list = []));
    list.push({ userId: u.id, displayName: u.display_name ?? '', email: u.email, registrationStatus: u.registration_status, createdAtMs: msOf(u.invited_at), lastLoginMs: undefined });
  }
  return accounts.map((a) => ({ accountId: a.id, name: a.name, users: byAccount.get(a.id) ?? [] }));
}
