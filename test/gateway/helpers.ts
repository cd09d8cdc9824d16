import { createGatewayModel, openGatewayStore, type GatewayModel } from '../../agents/gateway/model/index.js';

/** A model over a fresh in-memory database with a controllable clock and predictable ids. */
export function memoryModel(): GatewayModel & { clock: { t: number } } {
  const clock = { t: 1_700_000_000_000 };
  const counters = new Map<string, number>();
  const model = createGatewayModel(openGatewayStore(':memory:'), {
    now: () => clock.t,
    newId: (p) => {
      const n = (counters.get(p) ?? 0) + 1;
      counters.set(p, n);
      return `${p}-${n}`;
    },
  });
  return Object.assign(model, { clock });
}

export const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};
