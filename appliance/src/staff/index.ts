import Boom from '@hapi/boom';
import type { Plugin } from '@hapi/hapi';
import { registerAuth } from './auth.ts';
import { registerOidc } from './oidc-routes.ts';
import { routes } from './routes.ts';

/** Pages a person with a one-time password may still reach. */
const allowedBeforePasswordChange = ['/password', '/logout', '/login'];

export const plugin: Plugin<void> = {
  name: 'staff',
  dependencies: ['db', 'audit'],
  async register(server) {
    await registerAuth(server);
    server.route(routes);
    registerOidc(server);
    // A generated password is one-time: every page leads to the password form until it is changed.
    server.ext('onPostAuth', (request, h) => {
      const staff = request.auth.credentials?.user;
      if (!staff?.mustChangePassword || request.auth.credentials.via !== 'session') return h.continue;
      if (allowedBeforePasswordChange.includes(request.path) || request.path.startsWith('/static/') || request.path.startsWith('/lang/')) return h.continue;
      if (request.path.startsWith('/api/')) throw Boom.forbidden('Change the one-time password first: open /password');
      return h.redirect('/password').takeover();
    });
  },
};
