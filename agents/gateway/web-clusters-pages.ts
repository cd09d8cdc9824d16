/**
 * The cluster definitions' page bodies: the list, the form (one fieldset per service,
 * each problem next to its field) and the INI view. web/clusters.js only adds and removes
 * rows in place; without it the form has empty rows and an "add another" submit.
 */
import type { ClusterRecord } from './model/index.js';
import { assetUrl } from './web-assets.js';
import { html, type Html } from './web-html.js';
import { csrfField } from './web-pages.js';
import type { ClusterForm, FieldErrors, ServiceField, ServiceRow } from './web-clusters-form.js';

const href = (name: string) => `/web/clusters/${encodeURIComponent(name)}`;

export function clustersPage(clusters: readonly ClusterRecord[], me: string, notice?: string): Html {
  const rows = clusters.map((c) => {
    const services = c.definition.services.map((s) =>
      s.type === 'scalable'
        ? `${s.name} (scalable ${s.min}..${s.max}, initially ${s.initial})`
        : `${s.name} (fixed ×${s.count})`,
    );
    const mine = c.owner === me;
    return html`<tr data-cluster="${c.name}"><td class="cluster-name">${c.name}</td><td>${mine ? 'you' : c.owner}</td><td>${services.join(', ')}</td>
<td>${mine ? html`<a href="${href(c.name)}/edit">Edit</a> · <a href="${href(c.name)}/ini">INI</a>` : html``}</td></tr>`;
  });
  return html`${notice ? html`<p role="status">${notice}</p>` : html``}<p><a href="/web/clusters/new">New cluster definition</a> · <a href="/web/deploy">Deploy one</a></p>
<div class="scroll"><table id="clusters"><thead><tr><th>Name</th><th>Owner</th><th>Services</th><th>Open</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="4">No cluster definitions yet.</td></tr>`}</tbody></table></div>`;
}

/** What the form offers to pick from. */
export interface FormChoices {
  /** Context references: own ones by name, others' public ones by id (label: owner/name). */
  contexts: readonly { ref: string; label: string }[];
  clouds: readonly string[];
  /** `[autoscale.*]` sections kept as they are. */
  kept: string;
}

const fieldErrors = (errors: FieldErrors, key: string) => {
  const list = errors.get(key);
  return list?.length ? html`<span class="field-error error" id="err-${key}">${list.join('; ')}</span>` : html``;
};

function input(
  errors: FieldErrors,
  key: string,
  label: string,
  value: string,
  extra: { type?: string; list?: string; hint?: string; required?: boolean; min?: number } = {},
): Html {
  const id = key.replace('.', '-');
  const bad = errors.has(key);
  const hintId = extra.hint ? `${id}-hint` : '';
  const described = [bad ? `err-${key}` : '', hintId].filter(Boolean).join(' ');
  return html`<div class="fld"><label for="${id}">${label}</label><input id="${id}" name="${key}" value="${value}"${extra.type ? html` type="${extra.type}"` : html``}${extra.min !== undefined ? html` min="${extra.min}"` : html``}${extra.list ? html` list="${extra.list}"` : html``}${extra.required ? html` required` : html``}${bad ? html` aria-invalid="true"` : html``}${described ? html` aria-describedby="${described}"` : html``}>
${extra.hint ? html`<small id="${hintId}">${extra.hint}</small>` : html``}${fieldErrors(errors, key)}</div>`;
}

/** One service's fieldset; `i` is its index, or `__i__` in the template web/clusters.js copies. */
export function serviceRow(row: ServiceRow, i: number | string, errors: FieldErrors): Html {
  const k = (f: ServiceField | 'remove') => `s${i}.${f}`;
  const num = typeof i === 'number' ? i + 1 : '';
  const f = (name: ServiceField, label: string, extra: Parameters<typeof input>[4] = {}) =>
    input(errors, k(name), label, row[name], extra);
  const typeId = `s${i}-type`;
  return html`<fieldset class="svc-row" data-row="${i}"><legend>Service <span class="row-no">${num}</span></legend><div class="grid">
${f('name', 'Name', { hint: 'letters, digits, - and _' })}
<div class="fld"><label for="${typeId}">Type</label><select id="${typeId}" name="${k('type')}">
<option value="fixed"${row.type === 'fixed' ? html` selected` : html``}>fixed (deployed first, once)</option>
<option value="scalable"${row.type === 'scalable' ? html` selected` : html``}>scalable (min..max)</option></select>${fieldErrors(errors, k('type'))}</div>
${f('order', 'Order (fixed)', { type: 'number', min: 0 })}${f('count', 'Count (fixed)', { type: 'number', min: 1 })}
${f('min', 'Min (scalable)', { type: 'number', min: 0 })}${f('initial', 'Initial (scalable)', { type: 'number', min: 0 })}${f('max', 'Max (scalable)', { type: 'number', min: 1 })}
${f('depends', 'Depends on', { hint: 'service names, space separated' })}
${f('flavor', 'Flavor', { list: 'flavors', hint: 'small, medium, large or cores:N,memory:MB' })}
${f('image', 'Image', { hint: 'a generic image name, e.g. cernvm-4' })}
${f('context', 'Context', { list: 'contexts' })}${f('context_version', 'Context version', { type: 'number', min: 1, hint: 'empty: the newest' })}
${f('clouds', 'Preferred clouds', { hint: 'best first, space separated; empty: any' })}
</div><p class="row-remove"><input type="checkbox" id="s${i}-remove" name="${k('remove')}" value="1"> <label for="s${i}-remove" class="inline">Remove this service</label></p></fieldset>`;
}

export function clusterFormPage(
  form: ClusterForm,
  csrf: string,
  choices: FormChoices,
  errors: FieldErrors,
  empty: ServiceRow,
): Html {
  const top = errors.get('');
  const errorCount = [...errors.values()].reduce((n, l) => n + l.length, 0);
  return html`${errorCount ? html`<p class="error" role="alert">The definition has ${errorCount} problem(s), shown next to their fields; nothing was saved.</p>` : html``}
${top?.length ? html`<ul class="error" id="form-problems">${top.map((m) => html`<li>${m}</li>`)}</ul>` : html``}
<form method="post" action="/web/clusters" id="cluster-form" novalidate>${csrfField(csrf)}<input type="hidden" name="original" value="${form.original}">
<button name="action" value="save" class="default-submit" tabindex="-1" aria-hidden="true">Save</button>
<div class="grid">${input(errors, 'name', 'Cluster name', form.name, {
    required: true,
    hint: form.original
      ? `a letter, then letters, digits, - and _; another name saves a new definition beside ${form.original}`
      : 'a letter, then letters, digits, - and _',
  })}
${input(errors, 'description', 'Description', form.description)}</div>
<h2>Services</h2><p>Fixed services are deployed first, once, by order; scalable ones start after what they depend on and stay between min and max.${choices.clouds.length ? ` Clouds you may use: ${choices.clouds.join(', ')}.` : ''}</p>
<div id="rows">${form.rows.map((r, i) => serviceRow(r, i, errors))}</div>
<template id="row-template">${serviceRow(empty, '__i__', new Map())}</template>
<p><button name="action" value="add" id="add-row">Add another service row</button></p>
${choices.kept ? html`<p>Kept as they are: <code>[autoscale.*]</code> sections of the stored definition.</p><pre class="ini">${choices.kept}</pre>` : html``}
<p><button name="action" value="save" id="save">Save definition</button></p>
<datalist id="flavors"><option value="small"><option value="medium"><option value="large"></datalist>
<datalist id="contexts">${choices.contexts.map((c) => html`<option value="${c.ref}">${c.label}</option>`)}</datalist></form>
<script src="${assetUrl('clusters.js')}" defer></script>`;
}

export function clusterIniPage(rec: ClusterRecord, notice?: string): Html {
  return html`${notice ? html`<p role="status">${notice}</p>` : html``}<p>The definition as stored: the same INI that <code>cloudgate cluster put</code> reads and <code>GET /api/v1/clusters/${rec.name}</code> returns.
<a href="${href(rec.name)}/ini.txt" download="${rec.name}.ini">Download ${rec.name}.ini</a> · <a href="${href(rec.name)}/edit">Edit</a> · <a href="/web/clusters">All definitions</a></p>
<pre class="ini" id="ini">${rec.ini}</pre>`;
}
