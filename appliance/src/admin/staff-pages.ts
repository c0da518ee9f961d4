// Staff accounts and care units for hospital IT: list and search, add, edit, disable; units with
// the phone number invitations show; API tokens per account (shown once, listed with last use,
// revoked). Every change is audit-logged. And each staff member's own profile.
import type { Request, ResponseToolkit, ServerRoute } from '@hapi/hapi';
import type Joi from 'joi';
import type { Knex } from 'knex';
import { languageOf, t, type Language } from '../http/i18n.ts';
import { route } from '../http/route.ts';
import { roles } from '../staff/index.ts';
import {
  addStaff,
  addUnit,
  createToken,
  editStaff,
  hashedPassword,
  renameUnit,
  resetPassword,
  StaffError,
} from '../staff/index.ts';
import {
  findStaff,
  findUnit,
  listTokens,
  listUnits,
  revokeTokenById,
  searchStaff,
  setDisabled,
  staffPageSize,
} from '../staff/index.ts';
import { latestResult, staffSessionSubject } from '../techtest/index.ts';
import { adminOnly } from './audit-pages.ts';
import { clinicTime } from './extract.ts';
import * as schemas from './schemas.ts';

type Feedback = { notice?: string; error?: string; oneTimePassword?: string; newToken?: string };

const errorText = (lang: Language, error: StaffError) => t(lang, `admin.staff.error.${error.code}`);

/**
 * A change and its audit record, one transaction (ARCHITECTURE.md, the data path). A StaffError is
 * the person's input colliding with what exists: nothing is written, the page says which and keeps
 * the form.
 */
async function attempt<T>(
  request: Request,
  work: (trx: Knex.Transaction) => Promise<T>,
  audit: (trx: Knex.Transaction, value: T) => Promise<void>,
): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  try {
    const value = await request.server.app.db.transaction(async (trx) => {
      const done = await work(trx);
      await audit(trx, done);
      return done;
    });
    return { ok: true, value };
  } catch (error) {
    if (error instanceof StaffError) return { ok: false, error: errorText(languageOf(request), error) };
    throw error;
  }
}

async function unitOptions(request: Request, selected?: string) {
  return (await listUnits(request.server.app.db)).map((u) => ({ id: u.id, name: u.name, selected: u.id === selected }));
}

const roleOptions = (lang: Language, selected?: string) =>
  roles.map((r) => ({ value: r, label: t(lang, `role.${r}`), selected: r === selected }));

async function staffList(request: Request, h: ResponseToolkit, feedback: Feedback = {}, code = 200) {
  const { db } = request.server.app;
  const lang = languageOf(request);
  // The list serves its own search (validated) and the answers to the add form (whose query is not).
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const query = { q: text(request.query.q), unit: text(request.query.unit) };
  const page = typeof request.query.page === 'number' ? request.query.page : 1;
  const units = new Map((await listUnits(db)).map((u) => [u.id, u.name]));
  const offset = (page - 1) * staffPageSize;
  const { people, total } = await searchStaff(
    db,
    { search: query.q, unitId: query.unit },
    { offset, limit: staffPageSize },
  );
  // Another page of the same search: the address keeps what was searched for.
  const pageLink = (n: number) => {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => !!e[1]));
    if (n > 1) params.set('page', String(n));
    return `/admin/staff${params.size > 0 ? `?${params}` : ''}`;
  };
  return h
    .view('admin/staff', {
      title: t(lang, 'admin.staff.title'),
      styles: ['admin.css'],
      query,
      units: await unitOptions(request, query.unit),
      // A new account is most often a clinician's, in a unit the admin chooses (no silent default).
      roles: roleOptions(lang, 'clinician'),
      people: people.map((s) => ({
        ...s,
        unitName: units.get(s.unitId) ?? '',
        roleName: t(lang, `role.${s.role}`),
        lastLogin: s.lastLoginAt ? clinicTime(s.lastLoginAt) : t(lang, 'admin.staff.never'),
      })),
      // Only when there is more than one page: a unit's twenty people need no "1–20 of 20".
      paging:
        total > staffPageSize || page > 1
          ? {
              shown: t(lang, 'admin.staff.shown', {
                first: people.length > 0 ? offset + 1 : 0,
                last: offset + people.length,
                total,
              }),
              previous: page > 1 ? pageLink(Math.min(page - 1, Math.ceil(total / staffPageSize) || 1)) : undefined,
              next: offset + people.length < total ? pageLink(page + 1) : undefined,
            }
          : undefined,
      ...feedback,
    })
    .code(code);
}

async function staffPage(request: Request, h: ResponseToolkit, staffId: string, feedback: Feedback = {}, code = 200) {
  const { db } = request.server.app;
  const lang = languageOf(request);
  const person = await findStaff(db, { id: staffId });
  if (!person)
    return h
      .view('error', { status: 404, message: t(lang, 'admin.staff.notFound'), title: t(lang, 'error.title') })
      .code(404);
  const tokens = await listTokens(db, person.id);
  return h
    .view('admin/staff-edit', {
      title: person.name,
      styles: ['admin.css'],
      person,
      self: person.id === request.auth.credentials.user!.id,
      units: await unitOptions(request, person.unitId),
      roles: roleOptions(lang, person.role),
      tokens: tokens.map((tk) => ({
        ...tk,
        created: clinicTime(tk.createdAt),
        lastUsed: tk.lastUsedAt ? clinicTime(tk.lastUsedAt) : t(lang, 'admin.staff.never'),
      })),
      ...feedback,
    })
    .code(code);
}

const listFailed = (request: Request, h: ResponseToolkit) =>
  staffList(request, h, { error: t(languageOf(request), 'admin.staff.invalid') }, 400).then((r) => r.takeover());
/** A bad form on a staff member's page: the page again, with what the form (`invalid`) needs. */
const failedOnPage = (invalid: string) => (request: Request, h: ResponseToolkit) => {
  const { id } = request.params;
  const lang = languageOf(request);
  return typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id)
    ? staffPage(request, h, id, { error: t(lang, invalid) }, 400).then((r) => r.takeover())
    : h
        .view('error', { status: 404, message: t(lang, 'admin.staff.notFound'), title: t(lang, 'error.title') })
        .code(404)
        .takeover();
};
const pageFailed = failedOnPage('admin.staff.invalid');

/** A form posted on one staff member's page: admins only; a bad form shows the page again with why. */
const onStaffPage = <P extends Joi.ObjectSchema>(payload: P, invalid = 'admin.staff.invalid') => ({
  auth: adminOnly,
  validate: { params: schemas.staffParams, payload, failAction: failedOnPage(invalid) },
});

async function unitsPage(request: Request, h: ResponseToolkit, feedback: Feedback = {}, code = 200) {
  const lang = languageOf(request);
  return h
    .view('admin/units', {
      title: t(lang, 'admin.units.title'),
      styles: ['admin.css'],
      units: await listUnits(request.server.app.db),
      ...feedback,
    })
    .code(code);
}
const unitsFailed = (request: Request, h: ResponseToolkit) =>
  unitsPage(request, h, { error: t(languageOf(request), 'admin.units.invalid') }, 400).then((r) => r.takeover());

export const staffRoutes: ServerRoute[] = [
  route({
    method: 'GET',
    path: '/admin/staff',
    options: { auth: adminOnly, validate: { query: schemas.staffSearch } },
    handler: (request, h) => staffList(request, h),
  }),
  route({
    method: 'POST',
    path: '/admin/staff',
    options: { auth: adminOnly, validate: { payload: schemas.staffPayload, failAction: listFailed } },
    async handler(request, h) {
      const lang = languageOf(request);
      const form = request.payload;
      // Hashed before the transaction, which would hold every other write meanwhile (hashedPassword).
      const password = await hashedPassword();
      const result = await attempt(
        request,
        // The generated password is handed over once and must be replaced at the first login (addStaff).
        (trx) =>
          addStaff(
            trx,
            { name: form.name, email: form.email, hsaId: form.hsaId || null, unit: form.unit, role: form.role },
            password,
          ),
        (trx, { staff }) =>
          request.auditIn(trx, 'staff.add', {
            targetType: 'staff',
            targetId: staff.id,
            details: { email: staff.email, role: staff.role, unitId: staff.unitId },
          }),
      );
      if (!result.ok) return staffList(request, h, { error: result.error }, 409);
      const { staff, generatedPassword } = result.value;
      return staffPage(
        request,
        h,
        staff.id,
        { notice: t(lang, 'admin.staff.added', { name: staff.name }), oneTimePassword: generatedPassword },
        201,
      );
    },
  }),
  route({
    method: 'GET',
    path: '/admin/staff/{id}',
    options: { auth: adminOnly, validate: { params: schemas.staffParams, failAction: pageFailed } },
    handler: (request, h) => staffPage(request, h, request.params.id),
  }),
  route({
    method: 'POST',
    path: '/admin/staff/{id}',
    options: onStaffPage(schemas.staffPayload),
    async handler(request, h) {
      const lang = languageOf(request);
      const form = request.payload;
      const self = request.auth.credentials.user!;
      // An admin cannot take away their own admin role: someone must be left to give it back.
      if (request.params.id === self.id && form.role !== 'admin')
        return staffPage(request, h, self.id, { error: t(lang, 'admin.staff.error.own_role') }, 409);
      const result = await attempt(
        request,
        (trx) =>
          editStaff(trx, request.params.id, {
            name: form.name,
            email: form.email,
            hsaId: form.hsaId || null,
            unitId: form.unit,
            role: form.role,
          }),
        (trx, staff) =>
          request.auditIn(trx, 'staff.update', {
            targetType: 'staff',
            targetId: staff.id,
            details: { email: staff.email, role: staff.role, unitId: staff.unitId, hsaId: staff.hsaId },
          }),
      );
      if (!result.ok) return staffPage(request, h, request.params.id, { error: result.error }, 409);
      // A new role or unit holds from the person's next request; their open streams check theirs now.
      request.server.app.bus.emit('staff.changed', { staffId: result.value.id });
      return staffPage(request, h, request.params.id, { notice: t(lang, 'admin.staff.saved') });
    },
  }),
  ...(['disable', 'enable'] as const).map((change) =>
    route({
      method: 'POST',
      path: `/admin/staff/{id}/${change}`,
      options: onStaffPage(schemas.crumbOnly),
      async handler(request, h) {
        const { db } = request.server.app;
        const lang = languageOf(request);
        const person = await findStaff(db, { id: request.params.id });
        if (!person) return staffPage(request, h, request.params.id);
        if (person.id === request.auth.credentials.user!.id)
          return staffPage(request, h, person.id, { error: t(lang, 'admin.staff.error.own_account') }, 409);
        // Disabling also ends the person's sessions (store.setDisabled), and so their open streams:
        // it takes effect at once.
        await attempt(
          request,
          (trx) => setDisabled(trx, person.id, change === 'disable'),
          (trx) => request.auditIn(trx, `staff.${change}`, { targetType: 'staff', targetId: person.id }),
        );
        request.server.app.bus.emit('staff.changed', { staffId: person.id });
        return staffPage(request, h, person.id, {
          notice: t(lang, `admin.staff.${change}dDone`, { name: person.name }),
        });
      },
    }),
  ),
  route({
    method: 'POST',
    path: '/admin/staff/{id}/password',
    options: onStaffPage(schemas.crumbOnly),
    async handler(request, h) {
      const lang = languageOf(request);
      const { id } = request.params;
      // Their own would end the admin's session in the middle of the page: that is the password page's work.
      if (id === request.auth.credentials.user!.id)
        return staffPage(request, h, id, { error: t(lang, 'admin.staff.error.own_password') }, 409);
      const password = await hashedPassword();
      const result = await attempt(
        request,
        (trx) => resetPassword(trx, { id }, password),
        (trx, { staff }) => request.auditIn(trx, 'staff.password_reset', { targetType: 'staff', targetId: staff.id }),
      );
      if (!result.ok) return staffPage(request, h, id, { error: result.error }, 404);
      // Their sessions have ended: so do their open streams.
      request.server.app.bus.emit('staff.changed', { staffId: id });
      const { staff, generatedPassword } = result.value;
      return staffPage(request, h, id, {
        notice: t(lang, 'admin.staff.passwordResetDone', { name: staff.name }),
        oneTimePassword: generatedPassword,
      });
    },
  }),
  route({
    method: 'POST',
    path: '/admin/staff/{id}/tokens',
    options: onStaffPage(schemas.tokenPayload, 'admin.tokens.invalid'),
    async handler(request, h) {
      const { db } = request.server.app;
      const lang = languageOf(request);
      const person = await findStaff(db, { id: request.params.id });
      if (!person) return staffPage(request, h, request.params.id);
      const { name } = request.payload;
      const result = await attempt(
        request,
        (trx) => createToken(trx, person.email, name),
        (trx, { tokenId }) =>
          request.auditIn(trx, 'token.create', {
            targetType: 'api_token',
            targetId: tokenId,
            details: { staffId: person.id, name },
          }),
      );
      if (!result.ok) return staffPage(request, h, person.id, { error: result.error }, 409);
      return staffPage(
        request,
        h,
        person.id,
        { notice: t(lang, 'admin.tokens.createdNotice', { name }), newToken: result.value.token },
        201,
      );
    },
  }),
  route({
    method: 'POST',
    path: '/admin/staff/{id}/tokens/{tokenId}/revoke',
    options: {
      auth: adminOnly,
      validate: { params: schemas.tokenParams, payload: schemas.crumbOnly, failAction: pageFailed },
    },
    async handler(request, h) {
      const lang = languageOf(request);
      const { id, tokenId } = request.params;
      const result = await attempt(
        request,
        (trx) => revokeTokenById(trx, id, tokenId),
        async (trx, revoked) => {
          if (revoked)
            await request.auditIn(trx, 'token.revoke', {
              targetType: 'api_token',
              targetId: tokenId,
              details: { staffId: id },
            });
        },
      );
      if (!result.ok || !result.value)
        return staffPage(request, h, id, { error: t(lang, 'admin.staff.error.unknown_token') }, 404);
      return staffPage(request, h, id, { notice: t(lang, 'admin.tokens.revoked') });
    },
  }),
  route({
    method: 'GET',
    path: '/admin/units',
    options: { auth: adminOnly },
    handler: (request, h) => unitsPage(request, h),
  }),
  route({
    method: 'POST',
    path: '/admin/units',
    options: { auth: adminOnly, validate: { payload: schemas.unitPayload, failAction: unitsFailed } },
    async handler(request, h) {
      const lang = languageOf(request);
      const { name, phone } = request.payload;
      const result = await attempt(
        request,
        (trx) => addUnit(trx, { name, phone: phone || null }),
        (trx, unit) =>
          request.auditIn(trx, 'unit.add', {
            targetType: 'care_unit',
            targetId: unit.id,
            details: { name, phone: unit.phone },
          }),
      );
      if (!result.ok) return unitsPage(request, h, { error: result.error }, 409);
      return unitsPage(request, h, { notice: t(lang, 'admin.units.added', { name: result.value.name }) }, 201);
    },
  }),
  route({
    method: 'POST',
    path: '/admin/units/{id}',
    options: {
      auth: adminOnly,
      validate: { params: schemas.unitParams, payload: schemas.unitPayload, failAction: unitsFailed },
    },
    async handler(request, h) {
      const lang = languageOf(request);
      const { db } = request.server.app;
      const { name, phone } = request.payload;
      const before = await findUnit(db, { id: request.params.id });
      const result = await attempt(
        request,
        (trx) => renameUnit(trx, request.params.id, { name, phone: phone || null }),
        (trx, unit) =>
          request.auditIn(trx, 'unit.update', {
            targetType: 'care_unit',
            targetId: unit.id,
            details: { from: before, to: unit },
          }),
      );
      if (!result.ok) return unitsPage(request, h, { error: result.error }, before ? 409 : 404);
      return unitsPage(request, h, { notice: t(lang, 'admin.units.saved', { name: result.value.name }) });
    },
  }),
  route({
    // Every staff member's own page: who the appliance takes them for, and their last tech test.
    method: 'GET',
    path: '/profile',
    options: { auth: { strategy: 'session' } },
    async handler(request, h) {
      const { db } = request.server.app;
      const lang = languageOf(request);
      const { user, sessionKey } = request.auth.credentials;
      const result = sessionKey ? await latestResult(db, staffSessionSubject(sessionKey)) : undefined;
      return h.view('admin/profile', {
        title: t(lang, 'admin.profile.title'),
        styles: ['admin.css'],
        person: user,
        unit: await findUnit(db, { id: user!.unitId }),
        roleName: t(lang, `role.${user!.role}`),
        techtest: result && {
          verdict: t(lang, `techtest.verdict.${result.verdict}`),
          good: result.verdict === 'good',
          when: clinicTime(result.testedAt),
          browser: result.browser,
          os: result.os,
        },
      });
    },
  }),
];
