/**
 * Chat commands for operators ([cloud] admins) and requesters: what this cloud hosts
 * and what it can still take. Read-only: changes go through the typed protocol.
 */
import type { Agent } from '../../core/index.js';
import type { CloudConfig } from './config.js';
import type { CloudStore } from './store.js';

export function cloudChat({
  agent,
  config,
  store,
  status,
}: {
  agent: Agent;
  config: CloudConfig;
  store: CloudStore;
  status: () => Promise<{ instances: number; free_instances: number; free_cores?: number; free_memory_mb?: number }>;
}): void {
  const allow = (bare: string) => config.admins.has(bare) || config.requesters.has(bare);
  agent.chat.add({
    name: 'status',
    usage: 'status',
    summary: 'instances hosted and free capacity',
    allow,
    run: async () => {
      const s = await status();
      const extra = [
        s.free_cores !== undefined && `${s.free_cores} cores`,
        s.free_memory_mb !== undefined && `${s.free_memory_mb} MB`,
      ].filter(Boolean);
      return `cloud ${config.name} (${config.driver}): ${s.instances} instance(s); free: ${s.free_instances} instance(s)${extra.length ? `, ${extra.join(', ')}` : ''}`;
    },
  });
  agent.chat.add({
    name: 'instances',
    usage: 'instances [deployment]',
    summary: 'instances this cloud owns, with their states',
    allow,
    run: (args) => {
      const rows = store.list({ deployment: args.positional[0] });
      if (rows.length === 0) return 'No instances.';
      return rows
        .map(
          (r) =>
            `${r.name}  ${r.state}  ${r.deployment}/${r.service}  ${r.owner}${r.cloud_id ? `  ${r.cloud_id}` : ''}`,
        )
        .join('\n');
    },
  });
}
