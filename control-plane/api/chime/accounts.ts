import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AccountTable, UserTable } from '../../store/store.ts';
import { ChimeError, badRequest, notFound } from '../errors.ts';
import type { ChimeApiDeps } from './plugin.ts';
import { bodyOf, listPage, checkString, decodeToken, maxResults, optEnum } from './validate.ts';

/**
 * The legacy `chime` accounts and users (SPEC.md §6; reference §3), served under `/chime` so the
 * `@aws-sdk/client-chime` client works with `endpoint: "http://host:port/chime"`. Team accounts
 * are created here; Enterprise rules (suspend/unsuspend) apply to accounts an admin marked as
 * Enterprise (`POST /carillon/v1/accounts/{id}/type`).
 */
const LICENSES = ['Basic', 'Plus', 'Pro', 'ProTrial'] as const;
const USER_TYPES = ['PrivateUser', 'SharedDevice'] as const;
const ACCOUNT_TYPES = ['Team', 'EnterpriseDirectory', 'EnterpriseLWA', 'EnterpriseOIDC'] as const;
const EMAIL = /^.+@.+\..+$/;

function accountWire(deps: ChimeApiDeps, a: AccountTable): Record<string, unknown> {
  return {
    AwsAccountId: deps.accountId,
    AccountId: a.id,
    Name: a.name,
    AccountType: a.type,
    CreatedTimestamp: a.created_at,
    DefaultLicense: a.default_license,
    SupportedLicenses: ['Basic', 'Pro'],
    AccountStatus: a.status,
    SigninDelegateGroups: [],
  };
}

function userWire(u: UserTable): Record<string, unknown> {
  return {
    UserId: u.id,
    AccountId: u.account_id,
    PrimaryEmail: u.email,
    ...(u.display_name === null ? {} : { DisplayName: u.display_name }),
    LicenseType: u.license,
    UserType: u.user_type,
    UserRegistrationStatus: u.registration_status,
    UserInvitationStatus: u.invitation_status,
    ...(u.registered_at === null ? {} : { RegisteredOn: u.registered_at }),
    InvitedOn: u.invited_at,
    PersonalPIN: u.pin,
  };
}

const pin = (): string => String(crypto.randomInt(0, 10_000_000_000)).padStart(10, '0');

export function registerAccountRoutes(app: FastifyInstance, deps: ChimeApiDeps): void {
  const { db } = deps.store;
  const now = (): string => new Date(deps.clock.nowMs()).toISOString();
  const account = async (params: unknown): Promise<AccountTable> => {
    const id = (params as Record<string, string | undefined>).accountId ?? '';
    const a = await db.selectFrom('accounts').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    if (a === undefined) throw notFound(`Account ${id} not found`);
    return a;
  };
  const user = async (a: AccountTable, params: unknown): Promise<UserTable> => {
    const id = (params as Record<string, string | undefined>).userId ?? '';
    const u = await db.selectFrom('users').selectAll().where('id', '=', id).where('account_id', '=', a.id).executeTakeFirst();
    if (u === undefined) throw notFound(`User ${id} not found in account ${a.id}`);
    return u;
  };
  const enterprise = (a: AccountTable): boolean => a.type !== 'Team';

  app.post('/accounts', { config: { action: 'chime:CreateAccount' } }, async (req, reply) => {
    const name = checkString('Name', bodyOf(req.body).Name, 1, 100, /\S/);
    const row: AccountTable = { id: crypto.randomUUID(), name, type: 'Team', status: 'Active', default_license: 'Pro', settings: '{}', created_at: now(), deleted_at: null };
    await db.insertInto('accounts').values(row).execute();
    return reply.code(201).send({ Account: accountWire(deps, row) });
  });

  app.get('/accounts', { config: { action: 'chime:ListAccounts' } }, async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const limit = maxResults(q, 200);
    const after = decodeToken(q['next-token']);
    let query = db.selectFrom('accounts').selectAll().where('deleted_at', 'is', null).orderBy('id').limit(limit + 1);
    if (q.name !== undefined) query = query.where('name', 'like', `${q.name.replace(/[%_]/g, '')}%`);
    if (q['user-email'] !== undefined) {
      const u = await db.selectFrom('users').select('account_id').where('email', '=', q['user-email']).executeTakeFirst();
      query = query.where('id', '=', u?.account_id ?? '');
    }
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.execute();
    return listPage(rows, limit, 'Accounts', (a) => accountWire(deps, a), (r) => r.id);
  });

  app.get('/accounts/:accountId', { config: { action: 'chime:GetAccount' } }, async (req) => ({ Account: accountWire(deps, await account(req.params)) }));

  app.post('/accounts/:accountId', { config: { action: 'chime:UpdateAccount' } }, async (req) => {
    if ((req.query as Record<string, string | undefined>).operation !== undefined) throw badRequest('Sign-in delegate groups are not supported here');
    const a = await account(req.params);
    const b = bodyOf(req.body);
    const name = b.Name === undefined ? a.name : checkString('Name', b.Name, 1, 100, /\S/);
    const license = optEnum(b, 'DefaultLicense', LICENSES) ?? a.default_license;
    await db.updateTable('accounts').set({ name, default_license: license }).where('id', '=', a.id).execute();
    return { Account: accountWire(deps, { ...a, name, default_license: license }) };
  });

  app.delete('/accounts/:accountId', { config: { action: 'chime:DeleteAccount' } }, async (req, reply) => {
    const a = await account(req.params);
    const active = await db.selectFrom('users').select('id').where('account_id', '=', a.id).where('registration_status', '!=', 'Suspended').executeTakeFirst();
    if (active !== undefined) throw new ChimeError('UnprocessableEntityException', `Account ${a.id} still has users; suspend or remove them first`);
    await db.updateTable('accounts').set({ deleted_at: now(), status: 'Suspended' }).where('id', '=', a.id).execute();
    return reply.code(204).send();
  });

  app.get('/accounts/:accountId/settings', { config: { action: 'chime:GetAccountSettings' } }, async (req) => {
    const a = await account(req.params);
    return { AccountSettings: { DisableRemoteControl: false, EnableDialOut: false, ...(JSON.parse(a.settings) as object) } };
  });

  app.put('/accounts/:accountId/settings', { config: { action: 'chime:UpdateAccountSettings' } }, async (req, reply) => {
    const a = await account(req.params);
    const s = bodyOf(bodyOf(req.body).AccountSettings ?? (() => { throw badRequest('AccountSettings is required'); })());
    const next: Record<string, boolean> = {};
    for (const k of ['DisableRemoteControl', 'EnableDialOut']) {
      if (s[k] === undefined) continue;
      if (typeof s[k] !== 'boolean') throw badRequest(`AccountSettings.${k} must be a boolean`);
      next[k] = s[k];
    }
    await db.updateTable('accounts').set({ settings: JSON.stringify({ ...(JSON.parse(a.settings) as object), ...next }) }).where('id', '=', a.id).execute();
    return reply.code(204).send();
  });

  // POST /accounts/{id}/users?operation=add|create|suspend|unsuspend, or none = BatchUpdateUser.
  app.post(
    '/accounts/:accountId/users',
    { config: { action: 'chime:BatchUpdateUser', actionByOperation: { add: 'chime:InviteUsers', create: 'chime:CreateUser', suspend: 'chime:BatchSuspendUser', unsuspend: 'chime:BatchUnsuspendUser' } } },
    async (req, reply) => {
      const a = await account(req.params);
      const op = (req.query as Record<string, string | undefined>).operation;
      const b = bodyOf(req.body);
      const errors: { UserId: string; ErrorCode: string; ErrorMessage: string }[] = [];
      if (op === 'add') {
        if (enterprise(a)) throw badRequest('Users of Enterprise accounts come from the directory; invite is for Team accounts');
        const emails = b.UserEmailList;
        if (!Array.isArray(emails) || emails.length > 50) throw badRequest('UserEmailList must be a list of at most 50 addresses');
        const userType = optEnum(b, 'UserType', USER_TYPES) ?? 'PrivateUser';
        const invites = [];
        for (const [i, e] of emails.entries()) {
          const email = checkString(`UserEmailList[${i}]`, e, 3, 256, EMAIL);
          const existing = await db.selectFrom('users').select('id').where('account_id', '=', a.id).where('email', '=', email).executeTakeFirst();
          if (existing === undefined) {
            await db.insertInto('users').values({ id: crypto.randomUUID(), account_id: a.id, email, display_name: null, license: a.default_license, user_type: userType, registration_status: 'Unregistered', invitation_status: 'Pending', invited_at: now(), registered_at: null, pin: pin(), settings: '{}' }).execute();
          }
          invites.push({ InviteId: crypto.randomUUID(), Status: 'Pending', EmailAddress: email, EmailStatus: 'NotSent' });
        }
        return reply.code(201).send({ Invites: invites });
      }
      if (op === 'create') {
        const email = checkString('Email', b.Email, 3, 256, EMAIL);
        const taken = await db.selectFrom('users').select('id').where('account_id', '=', a.id).where('email', '=', email).executeTakeFirst();
        if (taken !== undefined) throw new ChimeError('ConflictException', `A user with ${email} exists`);
        const u: UserTable = { id: crypto.randomUUID(), account_id: a.id, email, display_name: b.Username === undefined ? null : checkString('Username', b.Username, 1, 256), license: a.default_license, user_type: optEnum(b, 'UserType', USER_TYPES) ?? 'PrivateUser', registration_status: 'Registered', invitation_status: 'Accepted', invited_at: now(), registered_at: now(), pin: pin(), settings: '{}' };
        await db.insertInto('users').values(u).execute();
        return reply.code(201).send({ User: userWire(u) });
      }
      if (op === 'suspend' || op === 'unsuspend') {
        const ids = b.UserIdList;
        if (!Array.isArray(ids) || ids.length > 50 || ids.some((x) => typeof x !== 'string')) throw badRequest('UserIdList must be a list of at most 50 user ids');
        if (op === 'unsuspend' && !enterprise(a)) throw badRequest('BatchUnsuspendUser is for Enterprise accounts');
        for (const id of ids as string[]) {
          const u = await db.selectFrom('users').selectAll().where('id', '=', id).where('account_id', '=', a.id).executeTakeFirst();
          if (u === undefined) {
            errors.push({ UserId: id, ErrorCode: 'NotFound', ErrorMessage: `User ${id} not found` });
            continue;
          }
          // Team: suspending removes the user from the account (they can be invited again).
          if (op === 'suspend' && !enterprise(a)) await db.deleteFrom('users').where('id', '=', id).execute();
          else if (op === 'suspend') await db.updateTable('users').set({ registration_status: 'Suspended' }).where('id', '=', id).execute();
          else if (u.registration_status === 'Suspended') await db.updateTable('users').set({ registration_status: 'Registered' }).where('id', '=', id).execute();
        }
        return { UserErrors: errors };
      }
      if (op !== undefined) throw badRequest('operation must be add, create, suspend or unsuspend');
      const items = b.UpdateUserRequestItems;
      if (!Array.isArray(items) || items.length > 20) throw badRequest('UpdateUserRequestItems must be a list of at most 20 items');
      for (const [i, it] of items.entries()) {
        const o = bodyOf(it);
        const id = checkString(`UpdateUserRequestItems[${i}].UserId`, o.UserId, 1, 64, /\S/);
        const license = optEnum(o, 'LicenseType', LICENSES);
        const r = license === undefined ? undefined : await db.updateTable('users').set({ license }).where('id', '=', id).where('account_id', '=', a.id).executeTakeFirst();
        if (r !== undefined && Number(r.numUpdatedRows) === 0) errors.push({ UserId: id, ErrorCode: 'NotFound', ErrorMessage: `User ${id} not found` });
      }
      return { UserErrors: errors };
    },
  );

  app.get('/accounts/:accountId/users', { config: { action: 'chime:ListUsers' } }, async (req) => {
    const a = await account(req.params);
    const q = req.query as Record<string, string | undefined>;
    const limit = maxResults(q, 200);
    const after = decodeToken(q['next-token']);
    let query = db.selectFrom('users').selectAll().where('account_id', '=', a.id).orderBy('id').limit(limit + 1);
    if (q['user-email'] !== undefined) query = query.where('email', '=', q['user-email']);
    if (q['user-type'] !== undefined) query = query.where('user_type', '=', q['user-type']);
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.execute();
    return listPage(rows, limit, 'Users', userWire, (r) => r.id);
  });

  app.get('/accounts/:accountId/users/:userId', { config: { action: 'chime:GetUser' } }, async (req) => ({ User: userWire(await user(await account(req.params), req.params)) }));

  app.post(
    '/accounts/:accountId/users/:userId',
    { config: { action: 'chime:UpdateUser', actionByOperation: { 'reset-personal-pin': 'chime:ResetPersonalPIN', logout: 'chime:LogoutUser' } } },
    async (req, reply) => {
      const u = await user(await account(req.params), req.params);
      const op = (req.query as Record<string, string | undefined>).operation;
      if (op === 'reset-personal-pin') {
        const next = pin();
        await db.updateTable('users').set({ pin: next }).where('id', '=', u.id).execute();
        return { User: userWire({ ...u, pin: next }) };
      }
      if (op === 'logout') return reply.code(204).send();
      if (op !== undefined) throw badRequest('Phone numbers are assigned to voice connectors here, not to users');
      const b = bodyOf(req.body);
      const license = optEnum(b, 'LicenseType', LICENSES) ?? u.license;
      const userType = optEnum(b, 'UserType', USER_TYPES) ?? u.user_type;
      await db.updateTable('users').set({ license, user_type: userType }).where('id', '=', u.id).execute();
      return { User: userWire({ ...u, license, user_type: userType }) };
    },
  );

  app.get('/accounts/:accountId/users/:userId/settings', { config: { action: 'chime:GetUserSettings' } }, async (req) => {
    const u = await user(await account(req.params), req.params);
    return { UserSettings: { Telephony: { InboundCalling: true, OutboundCalling: true, SMS: false, ...(JSON.parse(u.settings) as object) } } };
  });

  app.put('/accounts/:accountId/users/:userId/settings', { config: { action: 'chime:UpdateUserSettings' } }, async (req, reply) => {
    const u = await user(await account(req.params), req.params);
    const t = bodyOf(bodyOf(bodyOf(req.body).UserSettings).Telephony);
    for (const k of ['InboundCalling', 'OutboundCalling', 'SMS']) if (typeof t[k] !== 'boolean') throw badRequest(`UserSettings.Telephony.${k} is required: a boolean`);
    await db.updateTable('users').set({ settings: JSON.stringify({ InboundCalling: t.InboundCalling, OutboundCalling: t.OutboundCalling, SMS: t.SMS }) }).where('id', '=', u.id).execute();
    return reply.code(204).send();
  });
}

/** Admin route: mark an account as Enterprise (its users then come from a directory). */
export function registerAccountAdminRoutes(app: FastifyInstance, deps: ChimeApiDeps): void {
  app.post('/carillon/v1/accounts/:accountId/type', { config: { action: 'carillon:SetAccountType' } }, async (req) => {
    const id = (req.params as Record<string, string | undefined>).accountId ?? '';
    const type = optEnum(bodyOf(req.body), 'AccountType', ACCOUNT_TYPES);
    if (type === undefined) throw badRequest('AccountType is required');
    const r = await deps.store.db.updateTable('accounts').set({ type }).where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw notFound(`Account ${id} not found`);
    return { AccountId: id, AccountType: type };
  });
}
