/** What the page files share from web-routes.ts: the layout, the session checks, error pages. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Html } from './web-html.js';
import type { WebSession } from './web-session.js';

export interface WebKit {
  send(reply: FastifyReply, title: string, body: Html, s?: WebSession, status?: number): FastifyReply;
  /** The page's session, or a redirect to the login page (undefined then). */
  need(req: FastifyRequest, reply: FastifyReply): WebSession | undefined;
  /** A form post's session and fields once its CSRF token matches; a 403 page otherwise. */
  needPost(req: FastifyRequest, reply: FastifyReply): { s: WebSession; f: Record<string, string> } | undefined;
  /** A use case's typed error as a page with its status (anything else is rethrown). */
  pageError(reply: FastifyReply, s: WebSession, err: unknown): FastifyReply;
}
