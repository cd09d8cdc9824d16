/** Public face of drivers/: the driver interface, its errors and the registry. Internals stay private. */
export type {
  Capacity,
  CloudDriver,
  CreateRequest,
  DriverContext,
  DriverFactory,
  DriverFeature,
  Flavor,
  Image,
  Instance,
  InstanceState,
  InstanceTags,
  DriverDescriptor,
  DriverOptionSpec,
} from './shared/index.js';
export { INSTANCE_STATES } from './shared/index.js';
export { CloudError, type CloudErrorKind } from './shared/index.js';
export {
  driverNames,
  driverDescriptor,
  driverSecretKeys,
  loadDriver,
  openDriver,
  type DriverName,
} from './registry.js';
