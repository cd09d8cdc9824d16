/** The image registry resources (/images): list it, publish signed metadata to it. */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { imageRef } from '../../images/index.js';
import * as S from './http-schemas.js';
import type { App, RouteDeps } from './http.js';

const problems = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, S.ProblemT]));
const ImageT = Type.Object({
  name: Type.String(),
  version: Type.String(),
  os: Type.String(),
  arch: Type.String(),
  format: Type.String(),
  provides: Type.Array(Type.String()),
  cores: Type.Integer(),
  memory_mb: Type.Integer(),
  disk_gb: Type.Integer(),
  sha256: Type.String(),
  valid_until: Type.String(),
  deprecated: Type.Optional(Type.String()),
  clouds: Type.Array(Type.String()),
});
const PublishImageBody = Type.Object(
  { envelope: Type.String({ minLength: 2, maxLength: 64 * 1024 }) },
  { additionalProperties: false },
);
const PublishedT = Type.Object({
  image: Type.String(),
  valid_until: Type.String(),
  endorsers: Type.Array(Type.String()),
  replaced: Type.Optional(Type.String()),
});

export function addImageRoutes(api: App, d: RouteDeps, user: (req: FastifyRequest) => Promise<string>): void {
  const { service } = d;
  api.get(
    '/images',
    {
      schema: {
        summary: "The image registry: each image's signed metadata in short, and the online clouds that have it",
        response: { 200: Type.Object({ images: Type.Array(ImageT) }), ...problems(401, 403) },
      },
    },
    async (req) => ({ images: service.images.list(await user(req)) }),
  );
  api.post(
    '/images',
    {
      schema: {
        summary:
          "Publish signed image metadata (`envelope`: a DSSE envelope's JSON text); verified against the gateway's trusted endorsers first, refused (422) with the reason and its code",
        body: PublishImageBody,
        response: { 201: PublishedT, ...problems(400, 401, 403, 404, 422) },
      },
    },
    async (req, reply) => {
      const p = service.images.publish(await user(req), req.body.envelope);
      return reply.code(201).send({
        image: imageRef(p.metadata),
        valid_until: p.metadata.valid_until,
        endorsers: p.endorsers.map((e) => e.keyid),
        ...(p.replaced ? { replaced: p.replaced } : {}),
      });
    },
  );
}
