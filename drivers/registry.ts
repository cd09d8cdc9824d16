/**
 * The registry from driver name to descriptor (libcloud's get_driver). A descriptor is
 * light: the driver's module, and its SDK or native binding, is loaded only when a cloud
 * agent opens it, so a missing libvirt library never breaks an agent that only uses ec2.
 * Adding a driver is adding its folder and one line here.
 */
import {
  CloudError,
  type CloudDriver,
  type DriverContext,
  type DriverDescriptor,
  type DriverFactory,
} from './shared/index.js';
import { descriptor as local } from './local/index.js';
import { descriptor as libvirt } from './libvirt/index.js';
import { descriptor as ec2 } from './ec2/index.js';
import { descriptor as openstack } from './openstack/index.js';

const DESCRIPTORS = [local, libvirt, ec2, openstack] as const;

export type DriverName = (typeof DESCRIPTORS)[number]['name'];

export function driverNames(): DriverName[] {
  return DESCRIPTORS.map((d) => d.name);
}

/** The descriptor of `name`, or undefined for a name no driver has. */
export function driverDescriptor(name: string): DriverDescriptor | undefined {
  return DESCRIPTORS.find((d) => d.name === name);
}

/** Every driver's secret option names: what the logger redacts wherever they appear. */
export function driverSecretKeys(): string[] {
  return [...new Set(DESCRIPTORS.flatMap((d) => d.options.secrets))];
}

export async function loadDriver(name: string): Promise<DriverFactory> {
  const d = driverDescriptor(name);
  if (!d) throw new CloudError('invalid', `unknown driver "${name}" (known: ${driverNames().join(', ')})`);
  try {
    return await d.load();
  } catch (err) {
    throw new CloudError('unavailable', `driver "${name}" could not be loaded: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** loadDriver + call the factory: what a cloud agent does with its configured section. */
export async function openDriver(
  name: string,
  options: Readonly<Record<string, string>>,
  ctx: DriverContext,
): Promise<CloudDriver> {
  const factory = await loadDriver(name);
  return factory(options, ctx);
}
