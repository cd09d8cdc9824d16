/** The libvirt driver's factory: the one name the registry imports from this folder. */
import type { DriverFactory } from '../shared/index.js';
import { LibvirtDriver } from './driver.js';
import { readLibvirtOptions } from './options.js';

export const createDriver: DriverFactory = async (options, ctx) => {
  const driver = new LibvirtDriver(readLibvirtOptions(options), ctx.log.child({ driver: 'libvirt' }));
  await driver.init();
  return driver;
};
