/**
 * What web-routes.ts lends each group of pages registered beside it (web-contexts.ts,
 * web-clusters.ts): the layout, the session checks, the CSRF check, and the mapping of
 * a use case's error to a message and an HTTP status, so every page behaves alike.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App, RouteDeps } from './http.js';
import type { Html } from './web-html.js';
import type { WebSession } from './web-session.js';

export type Form = Record<string, string>;

export interface WebKit {
  send(reply: FastifyReply, title: string, body: Html, s?: WebSession, status?: number): FastifyReply;
  /** The session of a page, or a redirect to the login page (undefined then). */
  need(req: FastifyRequest, reply: FastifyReply): WebSession | undefined;
  /** The session of a form post whose CSRF token matches; a 403 page otherwise. */
  needPost(req: FastifyRequest, reply: FastifyReply): { s: WebSession; f: Form } | undefined;
  /** A use case's error as a message and a 4xx status; anything else is rethrown. */
  failure(err: unknown): { status: number; message: string };
  /** A page naming what went wrong. */
  pageError(reply: FastifyReply, s: WebSession, err: unknown): FastifyReply;
}

export type WebPages = (web: App, d: RouteDeps, kit: WebKit) => void;

/** A form field's text ('' when absent or not text). */
export const field = (f: Form, k: string): string => (typeof f[k] === 'string' ? f[k]! : '');
