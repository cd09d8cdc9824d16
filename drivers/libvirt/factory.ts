/** The libvirt driver's factory, loaded by its descriptor (index.ts) when a cloud agent uses it. */
import type { DriverFactory } from '../shared/index.js';
import { LibvirtDriver } from './driver.js';
import { readLibvirtOptions } from './options.js';

export const createDriver: DriverFactory = async (options, ctx) => {
  const driver = new LibvirtDriver(readLibvirtOptions(options), ctx.log.child({ driver: 'libvirt' }));
  await driver.init();
  return driver;
};
