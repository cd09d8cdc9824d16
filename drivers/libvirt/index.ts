/**
 * The libvirt driver as the registry knows it: its name, options and features. The driver
 * itself (factory.ts) is loaded only when a cloud agent opens it.
 */
import type { DriverDescriptor } from '../shared/index.js';
import { LIBVIRT_FEATURES, LIBVIRT_OPTIONS } from './options.js';

export const descriptor = {
  name: 'libvirt',
  options: LIBVIRT_OPTIONS,
  features: LIBVIRT_FEATURES,
  load: async () => (await import('./factory.js')).createDriver,
} as const satisfies DriverDescriptor;
