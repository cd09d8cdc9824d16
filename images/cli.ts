/**
 * `cloudgate key generate|show` and `cloudgate image sign|verify`: an endorser's keys and
 * the envelopes they sign. Everything is local files; nothing talks to a server. A private
 * key is written mode 0600 and never printed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CloudgateError } from '../core/index.js';
import { ImageError } from './errors.js';
import { decodeEnvelope, encodeEnvelope, signEnvelope } from './envelope.js';
import { IMAGE_METADATA_TYPE, imageRef, parseMetadata } from './format.js';
import { generateEndorserKey, keyIdOf, rawPublicKey, readPrivateKey, writePrivateKey } from './keys.js';
import { endorserLabel, makeEndorserFile, parseEndorserFile, readEndorserFile } from './endorser.js';
import { decideTrust } from './trust.js';

function fail(err: unknown): never {
  const msg = err instanceof CloudgateError ? `${err.message} [${err.code}]` : ((err as Error)?.stack ?? String(err));
  process.stderr.write(`cloudgate: ${msg}\n`);
  process.exit(err instanceof ImageError && err.code !== 'CG_IMAGE_KEY' ? 1 : 2);
}

function read(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CloudgateError(
      'CG_USAGE',
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

export function registerImageCommands(program: Command): void {
  const key = program.command('key').description("an endorser's Ed25519 key and the identity bound to it");
  key
    .command('generate')
    .description(
      'make a key pair: <out>.key (private, mode 0600) and <out>.pub.json (public key, name and e-mail, self-signed)',
    )
    .requiredOption('--name <name>', "endorser's name")
    .requiredOption('--email <email>', "endorser's e-mail")
    .requiredOption('--out <path>', 'file name prefix, e.g. keys/ada')
    .action((o: { name: string; email: string; out: string }) => {
      try {
        const k = generateEndorserKey();
        const pub = makeEndorserFile(k, o.name, o.email);
        if (existsSync(`${o.out}.pub.json`))
          throw new ImageError('CG_IMAGE_KEY', `${o.out}.pub.json exists: not overwritten`);
        writePrivateKey(`${o.out}.key`, k);
        writeFileSync(`${o.out}.pub.json`, JSON.stringify(pub, null, 2) + '\n', { flag: 'wx' });
        console.log(
          `key ${pub.keyid}\nprivate ${o.out}.key (keep it; mode 0600)\npublic  ${o.out}.pub.json (give this to sites that trust you)`,
        );
      } catch (err) {
        fail(err);
      }
    });
  key
    .command('show')
    .description(
      'print the identity and key id of an endorser file, or the key id of a private key (never the key itself)',
    )
    .argument('<file>', '<name>.pub.json or <name>.key')
    .option('--json', 'one JSON document')
    .action((file: string, o: { json?: boolean }) => {
      try {
        const text = read(file);
        const shown = text.includes('PRIVATE KEY')
          ? (() => {
              const k = readPrivateKey(file);
              return { keyid: keyIdOf(k), public_key: rawPublicKey(k).toString('base64') };
            })()
          : (() => {
              const e = parseEndorserFile(text, file);
              return {
                keyid: e.keyid,
                name: e.name,
                email: e.email,
                created: e.created,
                public_key: rawPublicKey(e.publicKey).toString('base64'),
              };
            })();
        if (o.json) console.log(JSON.stringify(shown, null, 2));
        else for (const [k, v] of Object.entries(shown)) console.log(`${k.padEnd(10)} ${v}`);
      } catch (err) {
        fail(err);
      }
    });

  const image = program.command('image').description('signed image metadata (DSSE envelopes, Ed25519)');
  image
    .command('sign')
    .description('sign image metadata (JSON) into an envelope, or add your signature to an envelope (an endorsement)')
    .argument('<file>', 'metadata JSON, or an envelope to endorse (- for stdin)')
    .requiredOption('--key <file>', 'your private key (<name>.key)')
    .option('--out <file>', 'write the envelope here (default: stdout)')
    .action((file: string, o: { key: string; out?: string }) => {
      try {
        const k = readPrivateKey(o.key);
        const text = read(file);
        const doc = JSON.parse(text) as Record<string, unknown>;
        let env;
        if ('payloadType' in doc) {
          const e = decodeEnvelope(doc);
          if (e.payloadType !== IMAGE_METADATA_TYPE)
            throw new ImageError(
              'CG_IMAGE_PAYLOAD_TYPE',
              `${file}: payload type '${e.payloadType}' is not image metadata`,
            );
          parseMetadata(Buffer.from(e.payload, 'base64')); // endorse only what is valid
          env = signEnvelope(e, k);
        } else {
          parseMetadata(text);
          env = signEnvelope(IMAGE_METADATA_TYPE, Buffer.from(text, 'utf8'), k);
        }
        if (o.out) writeFileSync(o.out, encodeEnvelope(env));
        else process.stdout.write(encodeEnvelope(env));
        process.stderr.write(`signed by ${keyIdOf(k)} (${env.signatures.length} signature(s))\n`);
      } catch (err) {
        fail(
          err instanceof SyntaxError ? new ImageError('CG_IMAGE_METADATA', `${file}: not JSON (${err.message})`) : err,
        );
      }
    });
  image
    .command('verify')
    .description(
      'check an envelope against trusted endorsers (signature, then validity); exit 1 with the reason if refused',
    )
    .argument('<envelope>', 'envelope file (- for stdin)')
    .requiredOption('--endorser <file...>', 'trusted endorser files (<name>.pub.json)')
    .option('--image <name>', 'the image name it must describe (default: the one it names)')
    .option('--json', 'print the verified metadata as JSON')
    .action((file: string, o: { endorser: string[]; image?: string; json?: boolean }) => {
      try {
        const endorsers = new Map(
          o.endorser.map((f) => {
            const e = readEndorserFile(f);
            return [e.keyid, e] as const;
          }),
        );
        const text = read(file);
        const policy = {
          endorsers,
          refusedKeyids: new Set<string>(),
          refusedChecksums: new Set<string>(),
          refusedImages: new Set<string>(),
          allowUnsigned: false,
        };
        const d = decideTrust(o.image, text, policy, new Date());
        if (!d.ok) throw new ImageError(d.code, d.reason);
        if (o.json)
          console.log(
            JSON.stringify(
              {
                metadata: d.metadata,
                endorsers: d.endorsers.map((e) => ({ keyid: e.keyid, name: e.name, email: e.email })),
              },
              null,
              2,
            ),
          );
        else
          console.log(
            `ok ${imageRef(d.metadata!)} valid until ${d.metadata!.valid_until}, endorsed by ${d.endorsers.map(endorserLabel).join(', ')}`,
          );
      } catch (err) {
        fail(err);
      }
    });
}
