/** The local driver's factory: the one name the registry imports from this folder. */
import type { DriverFactory } from '../shared/index.js';
import { LocalDriver } from './driver.js';
import { readLocalOptions } from './options.js';

export const createDriver: DriverFactory = async (options, ctx) => {
  const driver = new LocalDriver(readLocalOptions(options), ctx.log.child({ driver: 'local' }), ctx.protectedFiles ?? []);
  await driver.init();
  return driver;
};
