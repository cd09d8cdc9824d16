/**
 * `cloudgate image publish` sends signed image metadata to the gateway's image registry;
 * `cloudgate images` lists the registry, with the clouds that have each image.
 * The envelope is checked to be one (DSSE, image-metadata payload type) before it is sent;
 * whether its signatures count is the gateway's decision, against the endorsers it trusts.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { decodeEnvelope, IMAGE_METADATA_TYPE } from '../../../images/index.js';
import { UsageError, type ImageView } from '../client.js';
import { connectionOptions, withClient, fail, type CommonOpts } from './run.js';

function readEnvelope(file: string): string {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (Buffer.byteLength(text) > 64 * 1024) throw new UsageError(`${file}: over 64 KiB, not an image metadata envelope`);
  let payloadType: string;
  try {
    payloadType = decodeEnvelope(text).payloadType;
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
  if (payloadType !== IMAGE_METADATA_TYPE)
    throw new UsageError(`${file}: payload type '${payloadType}' is not ${IMAGE_METADATA_TYPE}`);
  return text;
}

export function registerImagePublish(program: Command): void {
  const image =
    program.commands.find((c) => c.name() === 'image') ??
    program.command('image').description('signed image metadata (DSSE envelopes, Ed25519)');
  connectionOptions(
    image
      .command('publish')
      .description(
        "publish a signed envelope (from 'cloudgate image sign') to the gateway's image registry; the gateway verifies it against the endorsers it trusts",
      )
      .argument('<envelope>', 'envelope file (- for stdin)'),
  ).action(async (file: string, o: CommonOpts) => {
    let envelope = '';
    try {
      envelope = readEnvelope(file);
    } catch (err) {
      fail(o, err);
    }
    await withClient(o, async (gw) => {
      const r = await gw.publishImage(envelope);
      return {
        json: r,
        text: `published ${r.image}, valid until ${r.valid_until}, endorsed by ${r.endorsers.join(', ')}${r.replaced ? ` (replaces ${r.replaced})` : ''}`,
      };
    });
  });

  connectionOptions(
    program
      .command('images')
      .description(
        "the gateway's image registry: signed metadata in short, and the online clouds that have each image",
      ),
  ).action(async (o: CommonOpts) => {
    await withClient(o, async (gw) => {
      const images = await gw.images();
      return { json: { images }, text: images.length ? images.map(imageText).join('\n') : 'no images in the registry' };
    });
  });
}

export const imageText = (i: ImageView): string =>
  `${i.name}@${i.version}  ${i.os} ${i.arch} ${i.format}  needs ${i.cores} cores, ${i.memory_mb} MB, ${i.disk_gb} GB  valid until ${i.valid_until}${i.deprecated ? `  DEPRECATED: ${i.deprecated}` : ''}\n    provides ${i.provides.join(', ') || 'nothing listed'}; on ${i.clouds.join(', ') || 'no online cloud'}`;
