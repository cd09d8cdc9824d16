/** Public face of drivers/shared/: the driver interface and errors, and the helpers every driver uses. */
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
} from './types.js';
export { INSTANCE_STATES } from './types.js';
export { CloudError, type CloudErrorKind } from './errors.js';
export { OptionReader } from './options.js';
export { REPO_ROOT, defaultCommand, readCommand, findExecutable } from './command.js';
export { DEFAULT_FLAVORS, readFlavors } from './flavors.js';
export { checkRequest, KeyedMutex } from './names.js';
export { splitCommand } from './shell.js';
export {
  CONSOLE_LOG,
  spawnGuest,
  findGuest,
  guestStatus,
  stopGuest,
  saveHandle,
  loadHandle,
  type GuestHandle,
  type GuestStatus,
} from './process.js';
