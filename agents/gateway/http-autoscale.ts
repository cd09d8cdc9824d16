/** The autoscaling resources of a deployment (/deployments/{id}/autoscale…) over the service's use cases. */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import * as S from './http-schemas.js';
import type { App, RouteDeps } from './http.js';

const problems = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, S.ProblemT]));

export function addAutoscaleRoutes(api: App, d: RouteDeps, user: (req: FastifyRequest) => Promise<string>): void {
  const { service } = d;
  api.get(
    '/deployments/:id/autoscale',
    {
      schema: {
        summary: "The deployment's autoscaling policies: paused or active, and the latest decision",
        params: S.IdParam,
        response: { 200: Type.Object({ policies: Type.Array(S.AutoscaleT) }), ...problems(401, 404) },
      },
    },
    async (req) => ({ policies: service.autoscale.show(await user(req), req.params.id) }),
  );
  for (const action of ['pause', 'resume'] as const) {
    api.post(
      `/deployments/:id/autoscale/:service/${action}`,
      {
        schema: {
          summary:
            action === 'pause'
              ? "Pause a service's policy: its count stays as it is"
              : 'Hand the service back to its policy',
          params: S.ServiceParam,
          response: { 200: S.AutoscaleT, ...problems(401, 404, 409, 422) },
        },
      },
      async (req) => service.autoscale[action](await user(req), req.params.id, req.params.service),
    );
  }
  api.put(
    '/deployments/:id/autoscale/:service',
    {
      schema: {
        summary:
          "Replace a service's policy: `key = value` lines of an [autoscale.<service>] section, in `policy` or as text/plain",
        params: S.ServiceParam,
        body: Type.Union([S.AutoscaleBody, Type.String({ minLength: 1, maxLength: 16 * 1024 })]),
        response: { 200: S.AutoscaleT, ...problems(400, 401, 404, 409, 422) },
      },
    },
    async (req) => {
      const policy = typeof req.body === 'string' ? req.body : req.body.policy;
      return service.autoscale.set(await user(req), req.params.id, req.params.service, policy);
    },
  );
}
