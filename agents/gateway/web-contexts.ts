/**
 * The contexts' web pages under /web/contexts: the list and the editor for a new context,
 * and each context's page with two versions side by side, a new version, clone,
 * visibility and encryption. All go through the service layer, as the CLI and chat do.
 * Passphrases arrive only in POST bodies (never in a URL, so never in a log or history)
 * and are used for one request.
 */
import type { FastifyReply } from 'fastify';
import { ContextRejectedError, PassphraseError, type ContextProblem } from './model/index.js';
import { contextView } from './views.js';
import { contextPage, contextsPage } from './web-contexts-pages.js';
import { field, type WebPages } from './web-kit.js';
import type { WebSession } from './web-session.js';

class InvalidInput extends Error {}

interface Show {
  a?: string;
  b?: string;
  passphrase?: string;
  error?: string;
  notice?: string;
  draft?: string;
  problems?: readonly ContextProblem[];
  warnings?: readonly ContextProblem[];
  status?: number;
}

export const addContextPages: WebPages = (web, d, kit) => {
  const { service, model } = d;
  const contextList = (s: WebSession) => service.contexts.list(s.user).map((c) => contextView(model, c));
  const idOf = (params: unknown) => (params as { id: string }).id;

  web.get('/contexts', async (req, reply) => {
    const s = kit.need(req, reply);
    if (!s) return reply;
    try {
      return kit.send(reply, 'Contexts', contextsPage(contextList(s), s.user, s.csrf), s);
    } catch (err) {
      return kit.pageError(reply, s, err);
    }
  });

  web.post('/contexts', async (req, reply) => {
    const ok = kit.needPost(req, reply);
    if (!ok) return reply;
    const name = field(ok.f, 'name').trim();
    const body = field(ok.f, 'body').replace(/\r\n/g, '\n');
    const pass = field(ok.f, 'passphrase');
    try {
      if (!name) throw new InvalidInput('name: give the context a name');
      if (name.length > 128) throw new InvalidInput('name: at most 128 characters');
      const r = await service.contexts.put(ok.s.user, { name, body, ...(pass ? { passphrase: pass } : {}) });
      const page = contextsPage(contextList(ok.s), ok.s.user, ok.s.csrf, {
        saved: `${r.context.name} version ${r.context.latest}`,
        warnings: r.warnings,
      });
      return kit.send(reply, 'Contexts', page, ok.s);
    } catch (err) {
      const problems = err instanceof ContextRejectedError ? err.problems : undefined;
      const e = err instanceof InvalidInput ? { status: 422, message: err.message } : kit.failure(err);
      try {
        const page = contextsPage(contextList(ok.s), ok.s.user, ok.s.csrf, {
          error: problems ? `The context has ${problems.length} problem(s); nothing was saved.` : e.message,
          ...(problems ? { problems } : {}),
          name,
          body,
        });
        return kit.send(reply, 'Contexts', page, ok.s, e.status);
      } catch (again) {
        return kit.pageError(reply, ok.s, again);
      }
    }
  });

  /** A version number from a form or query: the default when absent, an error naming it when bad. */
  const versionOf = (raw: string | undefined, latest: number, fallback: number): number => {
    if (raw === undefined || raw === '') return fallback;
    const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= 1 && n <= latest)) throw new InvalidInput(`version "${raw}": this context has versions 1 to ${latest}`);
    return n;
  };

  /** One context's page; a wrong passphrase or a bad version is a message on it. */
  const show = async (reply: FastifyReply, s: WebSession, id: string, o: Show = {}) => {
    const c = service.contexts.get(s.user, id);
    const versions = model.contexts.versions(c.id);
    let error = o.error;
    let status = o.status ?? 200;
    let a = Math.max(1, c.latest - 1);
    let b = c.latest;
    try {
      a = versionOf(o.a, c.latest, a);
      b = versionOf(o.b, c.latest, b);
    } catch (err) {
      error = (err as Error).message;
      status = 422;
    }
    const bodies = new Map<number, string>();
    for (const n of new Set([a, b])) {
      const encrypted = versions.find((v) => v.number === n)?.encrypted;
      if (encrypted && o.passphrase === undefined) continue;
      try {
        bodies.set(n, (await service.contexts.read(s.user, { ref: c.id, version: n, passphrase: o.passphrase })).body);
      } catch (err) {
        if (!(err instanceof PassphraseError)) throw err;
        error = `Wrong passphrase for version ${n}: it could not be decrypted, so it is not shown. Check the passphrase and try again.`;
        status = 403;
      }
    }
    const draft = o.draft ?? plainLatest(c.id);
    const page = contextPage({
      context: contextView(model, c),
      versions,
      mine: c.owner === s.user,
      csrf: s.csrf,
      a,
      b,
      bodies,
      ...(error ? { error } : {}),
      ...(o.notice ? { notice: o.notice } : {}),
      ...(draft !== undefined ? { draft } : {}),
      ...(o.problems ? { problems: o.problems } : {}),
      ...(o.warnings ? { warnings: o.warnings } : {}),
    });
    return kit.send(reply, `Context ${c.name}`, page, s, status);
  };
  const plainLatest = (id: string): string | undefined => {
    const v = model.contexts.version(id);
    return v?.content.type === 'plain' ? v.content.body : undefined;
  };
  /** Runs a page's action; a use case's refusal is shown on the context's page. */
  const onContext = async (reply: FastifyReply, s: WebSession, id: string, act: () => Promise<FastifyReply>) => {
    try {
      return await act();
    } catch (err) {
      const problems = err instanceof ContextRejectedError ? err.problems : undefined;
      const e = err instanceof InvalidInput ? { status: 422, message: err.message } : kit.failure(err);
      try {
        return await show(reply, s, id, { error: e.message, status: e.status, ...(problems ? { problems } : {}) });
      } catch (again) {
        return kit.pageError(reply, s, again);
      }
    }
  };

  web.get('/contexts/:id', async (req, reply) => {
    const s = kit.need(req, reply);
    if (!s) return reply;
    const q = req.query as Record<string, unknown>;
    const text = (k: string) => (typeof q[k] === 'string' ? (q[k] as string) : undefined);
    try {
      return await show(reply, s, idOf(req.params), {
        ...(text('a') !== undefined ? { a: text('a') } : {}),
        ...(text('b') !== undefined ? { b: text('b') } : {}),
      });
    } catch (err) {
      return kit.pageError(reply, s, err);
    }
  });

  web.post('/contexts/:id/decrypt', async (req, reply) => {
    const ok = kit.needPost(req, reply);
    if (!ok) return reply;
    const id = idOf(req.params);
    return onContext(reply, ok.s, id, () =>
      show(reply, ok.s, id, { a: field(ok.f, 'a'), b: field(ok.f, 'b'), passphrase: field(ok.f, 'passphrase') }),
    );
  });

  web.post('/contexts/:id/versions', async (req, reply) => {
    const ok = kit.needPost(req, reply);
    if (!ok) return reply;
    const id = idOf(req.params);
    const body = field(ok.f, 'body').replace(/\r\n/g, '\n');
    const pass = field(ok.f, 'passphrase');
    try {
      const c = service.contexts.get(ok.s.user, id);
      if (c.owner !== ok.s.user) throw new InvalidInput(`context '${c.name}' is ${c.owner}'s: clone it to change it`);
      const r = await service.contexts.put(ok.s.user, { name: c.name, body, ...(pass ? { passphrase: pass } : {}) });
      return await show(reply, ok.s, id, { notice: `Saved version ${r.context.latest}.`, warnings: r.warnings });
    } catch (err) {
      const problems = err instanceof ContextRejectedError ? err.problems : undefined;
      const e = err instanceof InvalidInput ? { status: 422, message: err.message } : kit.failure(err);
      return onContext(reply, ok.s, id, () =>
        show(reply, ok.s, id, {
          error: problems ? `The new version has ${problems.length} problem(s); nothing was saved.` : e.message,
          status: e.status,
          draft: body,
          ...(problems ? { problems } : {}),
        }),
      );
    }
  });

  web.post('/contexts/:id/clone', async (req, reply) => {
    const ok = kit.needPost(req, reply);
    if (!ok) return reply;
    const id = idOf(req.params);
    return onContext(reply, ok.s, id, async () => {
      const name = field(ok.f, 'name').trim();
      if (!name) throw new InvalidInput('name: give the copy a name');
      const copy = service.contexts.clone(ok.s.user, { ref: id, name });
      return reply.redirect(`/web/contexts/${encodeURIComponent(copy.id)}`, 303);
    });
  });

  web.post('/contexts/:id/visibility', async (req, reply) => {
    const ok = kit.needPost(req, reply);
    if (!ok) return reply;
    const id = idOf(req.params);
    return onContext(reply, ok.s, id, async () => {
      const v = field(ok.f, 'visibility');
      if (v !== 'public' && v !== 'private') throw new InvalidInput(`visibility "${v}": public or private`);
      const c = service.contexts.setVisibility(ok.s.user, { ref: id, visibility: v });
      return show(reply, ok.s, id, { notice: `The context is now ${c.visibility}.` });
    });
  });

  web.post('/contexts/:id/encrypt', async (req, reply) => {
    const ok = kit.needPost(req, reply);
    if (!ok) return reply;
    const id = idOf(req.params);
    return onContext(reply, ok.s, id, async () => {
      const c = service.contexts.get(ok.s.user, id);
      if (c.owner !== ok.s.user) throw new InvalidInput(`context '${c.name}' is ${c.owner}'s: clone it to encrypt it`);
      const pass = field(ok.f, 'passphrase');
      if (!pass) throw new InvalidInput('new passphrase: must not be empty');
      if (pass !== field(ok.f, 'repeat')) throw new InvalidInput('the new passphrase and its repetition differ');
      const current = field(ok.f, 'current');
      let text: string;
      try {
        text = (await service.contexts.read(ok.s.user, { ref: c.id, ...(current ? { passphrase: current } : {}) }))
          .body;
      } catch (err) {
        if (err instanceof PassphraseError)
          throw new InvalidInput(`Wrong current passphrase for version ${c.latest}: nothing was encrypted.`);
        throw err;
      }
      const r = await service.contexts.put(ok.s.user, { name: c.name, body: text, passphrase: pass });
      return show(reply, ok.s, id, { notice: `Saved version ${r.context.latest}, encrypted.` });
    });
  });
};
