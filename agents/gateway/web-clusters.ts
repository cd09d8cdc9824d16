/**
 * The cluster definitions' web pages under /web/clusters: the list, a form for a new or
 * edited definition, and its INI view. A saved form is INI text stored through the
 * service layer's `clusters.put`, exactly as `cloudgate cluster put` and chat store one,
 * so the CLI, chat, the HTTP API and the deploy form all see the same definition.
 */
import type { FastifyReply } from 'fastify';
import { ConfigInvalidError, type ConfigIssue } from '../../core/index.js';
import { parseCluster } from './model/index.js';
import {
  autoscaleSections,
  emptyRow,
  formFromPost,
  formOf,
  issuesByField,
  MAX_ROWS,
  toIni,
  type ClusterForm,
  type FieldErrors,
} from './web-clusters-form.js';
import { clusterFormPage, clusterIniPage, clustersPage, type FormChoices } from './web-clusters-pages.js';
import type { WebPages } from './web-kit.js';
import type { WebSession } from './web-session.js';

/** Empty rows a new form starts with, so it works without a script. */
const NEW_ROWS = 2;

/**
 * The parser stops at a bad cluster name before it checks the services; the services are
 * checked again under a stand-in name so that every problem shows at once.
 */
function allIssues(form: ClusterForm, issues: readonly ConfigIssue[]): FieldErrors {
  if (!issues.some((i) => i.section === 'cluster' && i.key === 'name')) return issuesByField(form, issues);
  try {
    parseCluster(toIni({ ...form, name: 'stand-in' }).ini);
    return issuesByField(form, issues);
  } catch (err) {
    if (!(err instanceof ConfigInvalidError)) return issuesByField(form, issues);
    const more = err.issues.filter((i) => i.section !== 'cluster' || i.key !== 'name');
    return issuesByField(form, [...issues, ...more]);
  }
}

export const addClusterPages: WebPages = (web, d, kit) => {
  const { service } = d;
  const nameOf = (params: unknown) => (params as { name: string }).name;

  const choices = (s: WebSession, kept: string): FormChoices => ({
    contexts: service.contexts
      .list(s.user)
      .map((c) => (c.owner === s.user ? { ref: c.name, label: c.name } : { ref: c.id, label: `${c.owner}/${c.name}` })),
    clouds: service.clouds.list(s.user).map((c) => c.name),
    kept,
  });
  const keptOf = (s: WebSession, original: string) => {
    if (!original) return '';
    const rec = service.clusters.list(s.user).find((c) => c.name === original && c.owner === s.user);
    return rec ? autoscaleSections(rec.ini) : '';
  };
  const showForm = (
    reply: FastifyReply,
    s: WebSession,
    form: ClusterForm,
    errors: FieldErrors = new Map(),
    status = 200,
  ) =>
    kit.send(
      reply,
      form.original ? `Edit cluster ${form.original}` : 'New cluster definition',
      clusterFormPage(form, s.csrf, choices(s, keptOf(s, form.original)), errors, emptyRow()),
      s,
      status,
    );

  web.get('/clusters', async (req, reply) => {
    const s = kit.need(req, reply);
    if (!s) return reply;
    try {
      return kit.send(reply, 'Cluster definitions', clustersPage(service.clusters.list(s.user), s.user), s);
    } catch (err) {
      return kit.pageError(reply, s, err);
    }
  });

  web.get('/clusters/new', async (req, reply) => {
    const s = kit.need(req, reply);
    if (!s) return reply;
    try {
      const form: ClusterForm = { name: '', description: '', original: '', rows: [] };
      for (let i = 0; i < NEW_ROWS; i++) form.rows.push(emptyRow());
      form.rows[1]!.type = 'scalable';
      return showForm(reply, s, form);
    } catch (err) {
      return kit.pageError(reply, s, err);
    }
  });

  web.get('/clusters/:name/edit', async (req, reply) => {
    const s = kit.need(req, reply);
    if (!s) return reply;
    try {
      return showForm(reply, s, formOf(service.clusters.get(s.user, nameOf(req.params))));
    } catch (err) {
      return kit.pageError(reply, s, err);
    }
  });

  web.get('/clusters/:name/ini', async (req, reply) => {
    const s = kit.need(req, reply);
    if (!s) return reply;
    try {
      const rec = service.clusters.get(s.user, nameOf(req.params));
      const saved = (req.query as Record<string, unknown>).saved !== undefined;
      return kit.send(
        reply,
        `Cluster ${rec.name} as INI`,
        clusterIniPage(rec, saved ? `Saved ${rec.name}.` : undefined),
        s,
      );
    } catch (err) {
      return kit.pageError(reply, s, err);
    }
  });

  web.get('/clusters/:name/ini.txt', async (req, reply) => {
    const s = kit.need(req, reply);
    if (!s) return reply;
    try {
      const rec = service.clusters.get(s.user, nameOf(req.params));
      return reply.type('text/plain; charset=utf-8').send(rec.ini);
    } catch (err) {
      return kit.pageError(reply, s, err);
    }
  });

  web.post('/clusters', async (req, reply) => {
    const ok = kit.needPost(req, reply);
    if (!ok) return reply;
    const form = formFromPost(ok.f);
    try {
      if (ok.f.action === 'add') {
        if (form.rows.length < MAX_ROWS) form.rows.push(emptyRow());
        return showForm(reply, ok.s, form);
      }
      const { ini, errors } = toIni(form, keptOf(ok.s, form.original));
      if (errors.size) return showForm(reply, ok.s, form, errors, 422);
      try {
        const rec = service.clusters.put(ok.s.user, ini);
        return reply.redirect(`/web/clusters/${encodeURIComponent(rec.name)}/ini?saved`, 303);
      } catch (err) {
        if (err instanceof ConfigInvalidError) return showForm(reply, ok.s, form, allIssues(form, err.issues), 422);
        const e = kit.failure(err);
        return showForm(reply, ok.s, form, new Map([['', [e.message]]]), e.status);
      }
    } catch (err) {
      return kit.pageError(reply, ok.s, err);
    }
  });
};
