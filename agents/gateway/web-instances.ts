/**
 * Parts of a deployment's page that must stay readable on a 375 px phone: the instances
 * table (its key columns first; web.css stacks each row as a card on narrow screens, each
 * cell labelled by its data-label) and the event history (newest first, compact times,
 * capped with a link to all of it).
 */
import type { DeploymentEvent } from './model/index.js';
import type { DeploymentView } from './wire.js';
import { html, type Html } from './web-html.js';

/** Events shown before "show all". */
export const EVENTS_SHOWN = 20;

type InstanceRow = DeploymentView['instances'][number];

const cell = (label: string, body: unknown, cls = '') =>
  html`<td data-label="${label}"${cls ? html` class="${cls}"` : html``}>${body}</td>`;

export function instancesTable(instances: InstanceRow[], addresses: ReadonlyMap<string, readonly string[]>): Html {
  const rows = instances.map(
    (i) =>
      html`<tr data-instance="${i.name}">${cell('Name', i.name, 'name')}${cell(
        'State',
        html`${i.state}${i.reason ? html` <small>(${i.reason})</small>` : html``}`,
        `state state-${i.state}`,
      )}${cell('Readiness', i.ready ? 'ready' : 'not ready', i.ready ? 'ready' : 'not-ready')}${cell('Service', i.service)}${cell(
        'Cloud',
        i.cloud,
      )}${cell('Address', (addresses.get(i.name) ?? []).join(', '), 'address')}${cell('Cloud id', i.cloud_instance_id ?? '')}${cell(
        'Context version',
        i.context_version,
      )}</tr>`,
  );
  return html`<div class="scroll"><table id="instances" class="cards"><thead><tr><th>Name</th><th>State</th><th>Readiness</th><th>Service</th><th>Cloud</th><th>Address</th><th>Cloud id</th><th>Context version</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="8">No instances.</td></tr>`}</tbody></table></div>`;
}

/** "12:04:05" today, "Dec 6 12:04" before (UTC, as the gateway's logs). */
export function compactTime(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const iso = d.toISOString();
  if (iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10)) return iso.slice(11, 19);
  return `${d.toLocaleString('en', { month: 'short', timeZone: 'UTC' })} ${d.getUTCDate()} ${iso.slice(11, 16)}`;
}

/** The history newest first; `all` false caps it at EVENTS_SHOWN with a link to `allHref`. */
export function eventList(events: readonly DeploymentEvent[], all: boolean, allHref: string, now = Date.now()): Html {
  const newest = [...events].reverse();
  const shown = all ? newest : newest.slice(0, EVENTS_SHOWN);
  const items = shown.map(
    (e) =>
      html`<li><time datetime="${new Date(e.time).toISOString()}">${compactTime(e.time, now)}</time> <span class="etype">${e.type}</span> ${e.message}</li>`,
  );
  const more =
    shown.length < newest.length
      ? html`<p><a href="${allHref}" id="all-events">Show all ${newest.length} events</a></p>`
      : html``;
  return html`<ol class="events" id="events" reversed>${items}</ol>${more}`;
}
