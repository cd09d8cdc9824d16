/** Plain-text renderings of the gateway's answers for people (scripts use --json). */
import { policiesText } from './autoscale.js';
import type { CloudView, ClusterView, ContextView, DeploymentView, PairingCodeView, WhoAmIView } from '../client.js';

/** Left-aligned columns; the header row first. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The lifecycle state, with the destroy that ended it when there was one. */
export const stateOf = (d: DeploymentView): string => (d.destroyed ? `${d.state}, ${d.destroyed}` : d.state);

export const serviceSummary = (d: DeploymentView): string =>
  d.services.map((s) => `${s.name} ${s.ready}/${s.wanted}`).join(', ') || '-';

export function deploymentsTable(ds: DeploymentView[]): string {
  if (ds.length === 0) return 'no deployments';
  return table([
    ['ID', 'CLUSTER', 'STATE', 'READY/WANTED', 'CREATED'],
    ...ds.map((d) => [d.id, d.cluster, stateOf(d), serviceSummary(d), d.created]),
  ]);
}

export function deploymentDetail(d: DeploymentView): string {
  const head = [
    `deployment ${d.id} of cluster ${d.cluster}: ${stateOf(d)}`,
    `  owner ${d.owner}, created ${d.created}, updated ${d.updated}, events on pubsub node ${d.node}`,
  ];
  const services = table([
    ['SERVICE', 'TYPE', 'READY', 'WANTED'],
    ...d.services.map((s) => [s.name, s.type, String(s.ready), String(s.wanted)]),
  ]);
  const instances =
    d.instances.length === 0
      ? 'no instances'
      : table([
          ['INSTANCE', 'SERVICE', 'CLOUD', 'STATE', 'READY', 'CONTEXT', 'CLOUD ID'],
          ...d.instances.map((i) => [
            i.name,
            i.service,
            i.cloud,
            i.state,
            i.ready ? 'yes' : 'no',
            `v${i.context_version}`,
            i.cloud_instance_id ?? '-',
          ]),
        ]);
  const autoscale = d.autoscale?.length ? ['', `autoscaling:\n${indent(policiesText(d.autoscale))}`] : [];
  return [...head, '', services, '', instances, ...autoscale].join('\n');
}

const indent = (text: string) => text.replace(/^/gm, '  ');

export function contextsTable(cs: ContextView[]): string {
  if (cs.length === 0) return 'no contexts';
  return table([
    ['NAME', 'VERSION', 'VISIBILITY', 'ENCRYPTED', 'OWNER', 'ID'],
    ...cs.map((c) => [c.name, String(c.version), c.visibility, c.encrypted ? 'yes' : 'no', c.owner, c.id]),
  ]);
}

export const contextLine = (c: ContextView): string =>
  `context ${c.name} version ${c.version} (${c.visibility}${c.encrypted ? ', encrypted' : ''}${c.parent ? `, cloned from ${c.parent}` : ''}) id ${c.id}`;

export function clustersTable(cs: ClusterView[]): string {
  if (cs.length === 0) return 'no clusters';
  return table([['NAME', 'OWNER', 'SERVICES'], ...cs.map((c) => [c.name, c.owner, c.services.join(' ')])]);
}

export function cloudsTable(cs: CloudView[]): string {
  if (cs.length === 0) return 'no clouds';
  return table([
    ['NAME', 'DRIVER', 'ONLINE', 'INSTANCES', 'FREE', 'JID'],
    ...cs.map((c) => [c.name, c.driver, c.online ? 'yes' : 'no', String(c.instances), String(c.free_instances), c.jid]),
  ]);
}

export const whoamiText = (w: WhoAmIView): string =>
  `${w.jid}${w.admin ? ' (gateway admin)' : ''}; groups: ${w.groups.length ? w.groups.join(', ') : 'none'}`;

export const pairingText = (p: PairingCodeView, context: string): string =>
  `pairing code for ${context}: ${p.code} (single use, expires ${new Date(p.expires * 1000).toISOString()})`;
