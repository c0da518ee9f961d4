// The admin start page: one link per task hospital IT comes here for.
import type { ServerRoute } from '@hapi/hapi';
import { languageOf, t, type Language } from '../http/i18n.ts';
import { adminOnly } from './audit-pages.ts';

/** Each section of the admin pages: its address, its name and what it is for. */
export const sections: { href: string; label: string; about: string }[] = [
  { href: '/admin/staff', label: 'admin.staff.title', about: 'admin.home.staff' },
  { href: '/admin/units', label: 'admin.units.title', about: 'admin.home.units' },
  { href: '/admin/status', label: 'admin.status.title', about: 'admin.home.status' },
  { href: '/admin/audit', label: 'admin.audit.title', about: 'admin.home.audit' },
  { href: '/admin/audit/extract', label: 'admin.extract.title', about: 'admin.home.extract' },
  { href: '/admin/privacy', label: 'admin.privacy.title', about: 'admin.home.privacy' },
];

const translated = (lang: Language) =>
  sections.map((s) => ({ href: s.href, label: t(lang, s.label), about: t(lang, s.about) }));

export const homeRoutes: ServerRoute[] = [
  {
    method: 'GET',
    path: '/admin',
    options: { auth: adminOnly },
    handler(request, h) {
      const lang = languageOf(request);
      return h.view('admin/index', {
        title: t(lang, 'admin.home.title'),
        styles: ['admin.css'],
        sections: translated(lang),
      });
    },
  },
];
