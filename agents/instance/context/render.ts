/**
 * Writing a [cloudgate] section back as text, for whoever hands a context to an instance
 * (a cloud agent adding identity to a user's context, the gateway's pairing endpoint) and
 * for the instance agent saving the context it now runs. The output parses back with
 * parseCloudgate to an equal section.
 */
import { ContextError } from './errors.js';
import type { CloudgateSection } from './cloudgate.js';

const HEADER = /^\[([A-Za-z0-9_.-]+)\][ \t]*(?:[#;].*)?$/;

/** [cloudgate] as INI text (ending with a newline); absent fields are left out. */
export function renderCloudgate(cg: CloudgateSection): string {
  const lines = ['[cloudgate]'];
  const put = (key: string, v: string | number | undefined) => {
    if (v === undefined) return;
    const text = String(v);
    // A newline would smuggle extra keys or sections into the document.
    if (text === '' || /[\r\n]/.test(text))
      throw new ContextError('CG_CONTEXT_INVALID', 'value must be one non-empty line', { section: 'cloudgate', key });
    lines.push(`${key} = ${text}`);
  };
  put('jid', cg.jid);
  if (cg.domain !== cg.jid.split('@')[1]?.split('/')[0]) put('domain', cg.domain);
  if (cg.server)
    put(
      'server',
      cg.server.host.includes(':') ? `[${cg.server.host}]:${cg.server.port}` : `${cg.server.host}:${cg.server.port}`,
    );
  if (cg.servers) put('servers', cg.servers.map(hostPortText).join(', '));
  put('token', cg.token);
  put('token_expires', cg.tokenExpires);
  if (cg.allow.length) put('allow', cg.allow.join(' '));
  put('gateway', cg.gateway);
  put('cloud', cg.cloud);
  put('context_version', cg.contextVersion);
  put('context_id', cg.contextId);
  put('deployment', cg.deployment);
  put('service', cg.service);
  put('instance_id', cg.instanceId);
  put('heartbeat_interval', cg.heartbeatInterval);
  put('metrics_interval', cg.metricsInterval);
  put('pubsub', cg.pubsub);
  if (cg.ca !== undefined) {
    lines.push('ca =');
    for (const l of cg.ca.replace(/\n$/, '').split('\n')) lines.push(`    ${l}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `text` without its [name] section (header to the next header). Other text is untouched. */
export function withoutSection(text: string, name: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    const h = HEADER.exec(line);
    if (h) skipping = h[1].toLowerCase() === name;
    if (!skipping) out.push(line);
  }
  return out.join('\n');
}

/** The [name] section alone (header included), or undefined. */
export function sectionText(text: string, name: string): string | undefined {
  const out: string[] = [];
  let inside = false;
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    const h = HEADER.exec(line);
    if (h) inside = h[1].toLowerCase() === name;
    if (inside) out.push(line);
  }
  return out.length ? `${out.join('\n')}\n` : undefined;
}

/** `text` with its [cloudgate] section (if any) replaced by `cg`, appended at the end. */
export function withCloudgate(text: string, cg: CloudgateSection): string {
  const body = withoutSection(text, 'cloudgate').replace(/\n*$/, '\n');
  return `${body}\n${renderCloudgate(cg)}`;
}

function hostPortText(s: { host: string; port: number }): string {
  return s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}
