/**
 * The ec2 driver's factory, loaded by its descriptor (index.ts) when a cloud agent uses it. The
 * credentials go straight into the SDK client and are kept nowhere else.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import type { DriverFactory } from '../shared/index.js';
import { Ec2Driver } from './driver.js';
import { readEc2Options } from './options.js';

export const createDriver: DriverFactory = async (raw, ctx) => {
  const { options, credentials } = readEc2Options(raw);
  const client = new EC2Client({
    region: options.region,
    endpoint: options.endpoint,
    credentials,
    // Bounded: a cloud agent must answer the gateway in seconds, not hang on a dead endpoint.
    maxAttempts: options.maxAttempts,
    requestHandler: {
      requestTimeout: options.requestTimeoutMs,
      connectionTimeout: Math.min(3000, options.requestTimeoutMs),
    },
  });
  return new Ec2Driver(options, client, ctx.log.child({ driver: 'ec2' }));
};
