/**
 * A cloud agent in its own process, for the restart test to kill with SIGKILL mid-request.
 * The driver lets the first CG_HOLD_AFTER create() calls through; the next one reaches the
 * cloud and then never returns, so the instance exists while the database still says
 * 'requested', and later ones are never made. Does nothing without CG_CLOUD_CONFIG (the
 * test runner also loads every file under test/).
 */
import { createLogger } from '../../core/index.js';
import type { CloudDriver } from '../../drivers/index.js';
import { createCloudAgent, loadCloudConfig } from '../../agents/cloud/index.js';

const file = process.env.CG_CLOUD_CONFIG;
if (file) {
  const holdAfter = Number(process.env.CG_HOLD_AFTER ?? '1');
  let n = 0;
  const hold = (d: CloudDriver): CloudDriver =>
    Object.assign(Object.create(d) as CloudDriver, {
      create: async (req: Parameters<CloudDriver['create']>[0]) => {
        const inst = await d.create(req);
        if (++n > holdAfter) {
          process.stdout.write(`holding ${req.name}\n`);
          await new Promise(() => {});
        }
        return inst;
      },
    });
  const log = createLogger({ level: 'trace', destination: process.env.CG_CLOUD_LOG });
  const ca = await createCloudAgent(loadCloudConfig(file), { log, wrapDriver: hold });
  await ca.start();
  process.stdout.write('ready\n');
}
