/**
 * The contexts' page bodies: the list with the editor for a new context, and one
 * context's page (its versions, two of them side by side, a new version, clone,
 * visibility, encryption). Every value goes through the html`` tag.
 */
import type { ContextProblem, ContextVersionMeta } from './model/index.js';
import type { ContextView } from './wire.js';
import { lineDiff } from './web-diff.js';
import { html, type Html } from './web-html.js';
import { csrfField, errorBox } from './web-pages.js';

const notice = (text?: string) => (text ? html`<p role="status" class="notice">${text}</p>` : html``);
const href = (c: { id: string }) => `/web/contexts/${encodeURIComponent(c.id)}`;

/** The body as numbered lines, each problem next to its line, then the list of all problems. */
function problemLines(body: string, problems: readonly ContextProblem[] | undefined): Html {
  if (!problems?.length) return html``;
  const bad = new Map<number, string[]>();
  for (const p of problems) if (p.line !== undefined) bad.set(p.line, [...(bad.get(p.line) ?? []), p.message]);
  return html`<h3>Where</h3><ol class="lines" id="lines">${body
    .split('\n')
    .map((l, i) =>
      bad.has(i + 1)
        ? html`<li class="bad" data-line="${i + 1}">${l || ' '} <span class="error">← ${bad.get(i + 1)!.join('; ')}</span></li>`
        : html`<li>${l || ' '}</li>`,
    )}</ol>
<ul id="problems" class="error">${problems.map((p) => html`<li>${p.line !== undefined ? `line ${p.line}: ` : ''}${p.section ? `[${p.section}] ` : ''}${p.key ? `${p.key}: ` : ''}${p.message}</li>`)}</ul>`;
}

/** What the check found in a stored body that may still be fine, each with its line. */
export function warningList(warnings: readonly ContextProblem[] | undefined): Html {
  if (!warnings?.length) return html``;
  return html`<div id="warnings" class="warn"><p>Saved with ${warnings.length} warning(s):</p><ul>${warnings.map((p) => html`<li>${p.line !== undefined ? `line ${p.line}: ` : ''}${p.section ? `[${p.section}] ` : ''}${p.key ? `${p.key}: ` : ''}${p.message}</li>`)}</ul></div>`;
}

export interface EditorState {
  error?: string;
  problems?: readonly ContextProblem[];
  name?: string;
  body?: string;
  saved?: string;
  warnings?: readonly ContextProblem[];
}

export function contextsPage(contexts: ContextView[], me: string, csrf: string, o: EditorState = {}): Html {
  const rows = contexts.map(
    (c) =>
      html`<tr><td class="ctx-name"><a href="${href(c)}">${c.name}</a></td><td>${c.owner === me ? 'you' : c.owner}</td><td>${c.visibility}</td><td>${c.version}</td><td>${c.encrypted ? 'yes' : 'no'}</td></tr>`,
  );
  return html`${notice(o.saved && `Saved context ${o.saved}.`)}${warningList(o.warnings)}
<p>Your own contexts and the ones others made public. Open one to compare its versions, write a new version, clone it, share it or encrypt it.</p>
<div class="scroll"><table id="contexts"><thead><tr><th>Name</th><th>Owner</th><th>Visibility</th><th>Version</th><th>Encrypted</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="5">No contexts yet.</td></tr>`}</tbody></table></div>
<h2>New context or new version</h2>${errorBox(o.error)}${problemLines(o.body ?? '', o.problems)}
<form method="post" action="/web/contexts">${csrfField(csrf)}
<label for="name">Name (a new version if you already have one of this name)</label><input id="name" name="name" value="${o.name ?? ''}" required>
<label for="body">amiconfig INI</label><textarea id="body" name="body" rows="14" required>${o.body ?? ''}</textarea>
<label for="ctx-passphrase">Encrypt with passphrase (optional)</label><input id="ctx-passphrase" name="passphrase" type="password" autocomplete="new-password">
<p><button>Check and save</button></p></form>`;
}

export interface ContextPageState {
  context: ContextView;
  versions: readonly ContextVersionMeta[];
  /** The caller owns it: may write versions, change visibility, encrypt. */
  mine: boolean;
  csrf: string;
  /** The two versions shown side by side, and their text where it could be read. */
  a: number;
  b: number;
  bodies: ReadonlyMap<number, string>;
  error?: string;
  notice?: string;
  /** What the new-version editor shows (after a refused save: the text and its problems). */
  draft?: string;
  problems?: readonly ContextProblem[];
  warnings?: readonly ContextProblem[];
}

function pane(
  n: number,
  lines: { text: string; changed: boolean }[] | undefined,
  encrypted: boolean,
  side: string,
): Html {
  const inner = lines
    ? html`<ol class="lines" id="v-${side}">${lines.map((l) => (l.changed ? html`<li class="${side === 'left' ? 'del' : 'add'}"><mark>${l.text || ' '}</mark></li>` : html`<li>${l.text || ' '}</li>`))}</ol>`
    : html`<p class="locked">Version ${n} is encrypted: enter its passphrase below to see it.</p>`;
  return html`<section class="pane"><h3>Version ${n}${encrypted ? ' (encrypted)' : ''}</h3>${inner}</section>`;
}

export function contextPage(o: ContextPageState): Html {
  const c = o.context;
  const byNumber = new Map(o.versions.map((v) => [v.number, v]));
  const la = o.bodies.get(o.a)?.split('\n');
  const lb = o.bodies.get(o.b)?.split('\n');
  const diff = la && lb ? lineDiff(la, lb) : undefined;
  const toLines = (l: string[] | undefined) => l?.map((text) => ({ text, changed: false }));
  const options = (chosen: number) =>
    o.versions.map(
      (v) => html`<option value="${v.number}"${v.number === chosen ? html` selected` : html``}>${v.number}</option>`,
    );
  const anyEncrypted = o.versions.some((v) => v.encrypted);
  const latestEncrypted = byNumber.get(c.version)?.encrypted ?? false;
  const rows = o.versions.map(
    (v) =>
      html`<tr><td>${v.number}</td><td>${new Date(v.createdAt).toISOString().slice(0, 16).replace('T', ' ')}</td><td>${v.encrypted ? 'yes' : 'no'}</td><td>${v.parent ? `${v.parent.contextId} version ${v.parent.version}` : ''}</td></tr>`,
  );
  const decrypt = anyEncrypted
    ? html`<form method="post" action="${href(c)}/decrypt" id="decrypt">${csrfField(o.csrf)}<input type="hidden" name="a" value="${o.a}"><input type="hidden" name="b" value="${o.b}">
<label for="decrypt-pass">Passphrase to decrypt versions ${o.a} and ${o.b}</label><input id="decrypt-pass" name="passphrase" type="password" autocomplete="off" required>
<p><button>Decrypt and show</button></p></form>`
    : html``;
  const owner = o.mine
    ? html`<h2>New version</h2>${problemLines(o.draft ?? '', o.problems)}
<form method="post" action="${href(c)}/versions">${csrfField(o.csrf)}
<label for="version-body">amiconfig INI of version ${c.version + 1}</label><textarea id="version-body" name="body" rows="14" required>${o.draft ?? ''}</textarea>
<label for="version-pass">Encrypt it with passphrase (optional)</label><input id="version-pass" name="passphrase" type="password" autocomplete="new-password">
<p><button>Check and save new version</button></p></form>
<h2>Visibility</h2><form method="post" action="${href(c)}/visibility">${csrfField(o.csrf)}
<p>This context is <strong id="visibility">${c.visibility}</strong>: ${c.visibility === 'public' ? 'every user can read and clone it.' : 'only you can read it.'}
<input type="hidden" name="visibility" value="${c.visibility === 'public' ? 'private' : 'public'}"> <button>Make it ${c.visibility === 'public' ? 'private' : 'public'}</button></p></form>
<h2>Encrypt</h2><form method="post" action="${href(c)}/encrypt">${csrfField(o.csrf)}
<p>Stores the newest version again as version ${c.version + 1}, encrypted: deploying it then needs the passphrase, which the gateway never stores. Earlier versions stay as they are.</p>
${latestEncrypted ? html`<label for="enc-current">Current passphrase of version ${c.version}</label><input id="enc-current" name="current" type="password" autocomplete="off" required>` : html``}
<label for="enc-pass">New passphrase</label><input id="enc-pass" name="passphrase" type="password" autocomplete="new-password" required>
<label for="enc-repeat">Repeat the new passphrase</label><input id="enc-repeat" name="repeat" type="password" autocomplete="new-password" required>
<p><button>Encrypt as a new version</button></p></form>`
    : html``;
  return html`${notice(o.notice)}${warningList(o.warnings)}${errorBox(o.error)}
<p>Owner ${c.owner}, <span id="ctx-visibility">${c.visibility}</span>, newest version ${c.version}${c.parent ? html`, cloned from <a href="/web/contexts/${encodeURIComponent(c.parent)}">${c.parent}</a>` : html``}. <a href="/web/contexts">All contexts</a></p>
<h2>Versions</h2><div class="scroll"><table id="versions"><thead><tr><th>Version</th><th>Created (UTC)</th><th>Encrypted</th><th>Copied from</th></tr></thead><tbody>${rows}</tbody></table></div>
<form method="get" action="${href(c)}" class="compare"><label for="a" class="inline">Left version</label> <select id="a" name="a">${options(o.a)}</select>
<label for="b" class="inline">Right version</label> <select id="b" name="b">${options(o.b)}</select> <button>Show side by side</button></form>
<div class="sbs" id="side-by-side">${pane(o.a, diff?.left ?? toLines(la), byNumber.get(o.a)?.encrypted ?? false, 'left')}${pane(o.b, diff?.right ?? toLines(lb), byNumber.get(o.b)?.encrypted ?? false, 'right')}</div>
${diff ? html`<p class="legend"><mark>Marked</mark> lines are only in that version.</p>` : html``}${decrypt}${owner}
<h2>Clone</h2><form method="post" action="${href(c)}/clone">${csrfField(o.csrf)}
<label for="clone-name">Name of your copy (of version ${c.version})</label><input id="clone-name" name="name" value="${o.mine ? `${c.name}-copy` : c.name}" required>
<p><button>Clone into my contexts</button></p></form>`;
}
