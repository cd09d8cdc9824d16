/**
 * The ec2 driver as the registry knows it: its name, options and features. The driver
 * itself (factory.ts) is loaded only when a cloud agent opens it.
 */
import type { DriverDescriptor } from '../shared/index.js';
import { EC2_FEATURES, EC2_OPTIONS } from './options.js';

export const descriptor = {
  name: 'ec2',
  options: EC2_OPTIONS,
  features: EC2_FEATURES,
  load: async () => (await import('./factory.js')).createDriver,
} as const satisfies DriverDescriptor;
