/**
 * What an instance's context report says went wrong, plugin by plugin, as the user should
 * read it. The instance agent sends per-plugin results (agents/instance/context/apply.ts):
 * a rejected context has 'data-error' results whose `detail.problems` hold one line per
 * problem (`line 5 [users] key "alice": unknown option "x" ...`); a failed plugin has a
 * 'failed' result with its message. Reports are the instance's words, so each is bounded.
 */
export interface PluginProblem {
  plugin: string;
  status: 'data-error' | 'failed';
  message: string;
}

const MAX_PROBLEMS = 20;
const MAX_CHARS = 500;

const clip = (s: string) => (s.length > MAX_CHARS ? `${s.slice(0, MAX_CHARS)}…` : s);

export function reportProblems(results: unknown): PluginProblem[] {
  if (!Array.isArray(results)) return [];
  const out: PluginProblem[] = [];
  for (const r of results as Array<{
    plugin?: unknown;
    status?: unknown;
    message?: unknown;
    detail?: { problems?: unknown };
  }>) {
    if (!r || (r.status !== 'data-error' && r.status !== 'failed') || typeof r.plugin !== 'string') continue;
    const listed = Array.isArray(r.detail?.problems)
      ? r.detail.problems.filter((p): p is string => typeof p === 'string')
      : [];
    const lines = listed.length ? listed : [typeof r.message === 'string' ? r.message : r.status];
    for (const m of lines) out.push({ plugin: clip(r.plugin), status: r.status, message: clip(m) });
    if (out.length >= MAX_PROBLEMS) break;
  }
  return out.slice(0, MAX_PROBLEMS);
}

/** `users: line 5 [users] key "alice": …; scripts: exited 1` */
export function describeProblems(problems: readonly PluginProblem[]): string {
  return problems.map((p) => `${p.plugin}: ${p.message}`).join('; ');
}
