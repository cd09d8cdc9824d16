/** Public face of drivers/: the driver interface, its errors and the registry. Internals stay private. */
export type {
  Capacity, CloudDriver, CreateRequest, DriverContext, DriverFactory, DriverFeature, Flavor, Image,
  Instance, InstanceState, InstanceTags,
} from './types.js';
export { INSTANCE_STATES } from './types.js';
export { CloudError, type CloudErrorKind } from './errors.js';
export { driverNames, loadDriver, openDriver, type DriverName } from './registry.js';
