/**
 * The local driver as the registry knows it: its name, options and features. The driver
 * itself (factory.ts) is loaded only when a cloud agent opens it.
 */
import type { DriverDescriptor } from '../shared/index.js';
import { LOCAL_FEATURES, LOCAL_OPTIONS } from './options.js';

export const descriptor = {
  name: 'local',
  options: LOCAL_OPTIONS,
  features: LOCAL_FEATURES,
  load: async () => (await import('./factory.js')).createDriver,
} as const satisfies DriverDescriptor;
