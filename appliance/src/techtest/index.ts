import type { Plugin } from '@hapi/hapi';
import { staffRoutes } from './routes.ts';

export const plugin: Plugin<void> = {
  name: 'techtest',
  dependencies: ['db', 'staff'],
  register(server) {
    server.route(staffRoutes);
  },
};

export { techTestRoutes, type TechTestMount } from './routes.ts';
export { latestResult } from './store.ts';
export { staffSessionSubject } from './service.ts';
export type { Subject, TechTestResult } from './model.ts';
