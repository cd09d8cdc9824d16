/**
 * Lazy registry from driver name to module (libcloud's get_driver): a driver's module,
 * and its SDK or native binding, is loaded only when a cloud agent asks for it, so a
 * missing libvirt library never breaks an agent that only uses ec2.
 */
import { CloudError } from './shared/index.js';
import type { CloudDriver, DriverContext, DriverFactory } from './shared/index.js';

const LOADERS = {
  local: () => import('./local/index.js'),
  libvirt: () => import('./libvirt/index.js'),
  ec2: () => import('./ec2/index.js'),
} satisfies Record<string, () => Promise<{ createDriver: DriverFactory }>>;

export type DriverName = keyof typeof LOADERS;

export function driverNames(): DriverName[] {
  return Object.keys(LOADERS) as DriverName[];
}

export async function loadDriver(name: string): Promise<DriverFactory> {
  if (!Object.hasOwn(LOADERS, name)) {
    throw new CloudError('invalid', `unknown driver "${name}" (known: ${driverNames().join(', ')})`);
  }
  try {
    return (await LOADERS[name as DriverName]()).createDriver;
  } catch (err) {
    throw new CloudError('unavailable', `driver "${name}" could not be loaded: ${(err as Error).message}`, { cause: err });
  }
}

/** loadDriver + call the factory: what a cloud agent does with its configured section. */
export async function openDriver(name: string, options: Readonly<Record<string, string>>, ctx: DriverContext): Promise<CloudDriver> {
  const factory = await loadDriver(name);
  return factory(options, ctx);
}
