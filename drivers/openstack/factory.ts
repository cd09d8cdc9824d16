/** The openstack driver's factory, loaded by its descriptor (index.ts) when a cloud agent uses it. */
import type { DriverFactory } from '../shared/index.js';
import { OpenStackApi } from './api.js';
import { OpenStackDriver } from './driver.js';
import { readOpenStackOptions } from './options.js';
import { KeystoneSession } from './session.js';

export const createDriver: DriverFactory = async (raw, ctx) => {
  const { options, auth } = readOpenStackOptions(raw);
  const log = ctx.log.child({ driver: 'openstack' });
  const session = new KeystoneSession(options, auth, log);
  return new OpenStackDriver(options, new OpenStackApi(options, session, log), log);
};
