/**
 * Public face of drivers/: the driver interface, its errors, the helpers every driver is
 * written with (shared/, so a driver kept outside this folder has them too) and the
 * registry.
 */
export * from './shared/index.js';
export {
  driverNames,
  driverDescriptor,
  driverSecretKeys,
  loadDriver,
  openDriver,
  type DriverName,
} from './registry.js';
