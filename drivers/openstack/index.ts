/**
 * The openstack driver as the registry knows it: its name, options and features. The driver
 * itself (factory.ts) is loaded only when a cloud agent opens it.
 */
import type { DriverDescriptor } from '../shared/index.js';
import { OPENSTACK_FEATURES, OPENSTACK_OPTIONS } from './options.js';

export const descriptor = {
  name: 'openstack',
  options: OPENSTACK_OPTIONS,
  features: OPENSTACK_FEATURES,
  load: async () => (await import('./factory.js')).createDriver,
} as const satisfies DriverDescriptor;
