import Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import { registerAuth } from './auth.ts';
import { registerOidc } from './oidc-routes.ts';
import { routes } from './routes.ts';
import { passwordPath } from './schemas.ts';

/** Pages a person with a one-time password may still reach. */
const allowedBeforePasswordChange = ['/password', '/logout', '/login'];

export const plugin: Plugin<void> = {
  name: 'staff',
  dependencies: ['db', 'audit'],
  async register(server) {
    await registerAuth(server);
    server.route(routes);
    registerOidc(server);
    // A generated password is one-time: every page of a session it opened leads to the password form
    // until it is changed. A session opened with SITHS used no password (and with LOCAL_LOGIN=off
    // none can be): it goes on, and the password still asks to be changed at its first use.
    server.ext('onPostAuth', (request, h) => {
      const staff = request.auth.credentials?.user;
      if (!staff?.mustChangePassword || request.auth.credentials.sessionMethod !== 'password') return h.continue;
      if (
        allowedBeforePasswordChange.includes(request.path) ||
        request.path.startsWith('/static/') ||
        request.path.startsWith('/lang/')
      )
        return h.continue;
      if (request.path.startsWith('/api/')) throw Boom.forbidden('Change the one-time password first: open /password');
      // The page asked for is where the person goes on to once the password is changed.
      const asked = request.method === 'get' ? `${request.url.pathname}${request.url.search}` : undefined;
      return h.redirect(passwordPath(asked)).takeover();
    });
  },
};

// The public API: what other domains may use of this one (ARCHITECTURE.md).
export {
  searchStaff,
  staffPageSize,
  findStaff,
  listUnits,
  findUnit,
  listTokens,
  revokeTokenById,
  setDisabled,
  type SessionMethod,
} from './store.ts';
export { roles, type Staff, type Role, type CareUnit } from './model.ts';
export {
  addStaff,
  addUnit,
  createToken,
  disableStaff,
  editStaff,
  hashedPassword,
  longEnough,
  minPasswordLength,
  renameUnit,
  resetPassword,
  revokeToken,
  StaffError,
} from './service.ts';
export { ensureFirstAdmin } from './bootstrap.ts';
export { FlowError, identityProviderOf, type VerifiedIdentity } from './oidc.ts';
export { callbackQuery, flowBinding, flowCookie } from './oidc-routes.ts';
export { nextPath } from './schemas.ts';
