/**
 * The generated attack: for each target agent, requests and messages of every type it
 * serves, broken in every way mutate.ts knows, of unknown kinds, of the wrong IQ type or
 * payload count, and valid ones from senders that have no right to them. Each case says
 * which stanza errors are acceptable answers (an IQ must always get one; a message gets
 * one, or none when the receiver is right to ignore it).
 */
import type { Element } from 'ltx';
import type { Agent } from '../../core/index.js';
import {
  cloud,
  gateway as gw,
  instance,
  type Condition,
  type MessageDef,
  type RequestDef,
} from '../../protocols/index.js';
import { malformed, unknownPayload } from './mutate.js';
import type { Rng } from './rng.js';
import type { Targets } from './targets.js';

export type TargetName = 'gateway' | 'cloud' | 'instance';

export interface Case {
  target: TargetName;
  from: Agent;
  kind: string;
  stanza: 'iq' | 'message';
  /** IQ type. */
  type?: 'get' | 'set';
  children: Element[];
  /** Acceptable error conditions; null: no error may come back (a message rightly ignored). */
  expect: Condition[] | null;
}

type AnyRequest = RequestDef<any, any>;
interface Sample {
  def: AnyRequest;
  valid: unknown;
}
interface MessageSample {
  def: MessageDef<any>;
  valid: unknown;
}

/** Picks among weighted generators. */
function weighted<T>(r: Rng, xs: ReadonlyArray<readonly [number, () => T]>): T {
  const total = xs.reduce((s, [w]) => s + w, 0);
  let x = r.next() * total;
  for (const [w, f] of xs) {
    if ((x -= w) < 0) return f();
  }
  return xs[xs.length - 1]![1]();
}

export function generate(r: Rng, tg: Targets, counts: Record<TargetName, number>): Case[] {
  const { victim, t } = tg;
  const host = t.host;
  let n = 0;
  const run = () => `touch "$CLOUDGATE_ROOT/pwned-${++n}"`;

  const gatewaySamples: Sample[] = [
    { def: gw.Deploy, valid: { cluster: victim.cluster, counts: { head: 1 } } },
    { def: gw.Status, valid: { deployment: victim.deployment } },
    { def: gw.Scale, valid: { deployment: victim.deployment, service: 'head', count: 3 } },
    { def: gw.Destroy, valid: { deployment: victim.deployment } },
    { def: gw.GetContext, valid: { ref: victim.context, version: 1 } },
    { def: gw.CloneContext, valid: { ref: victim.context, name: 'stolen' } },
    { def: gw.PairingCode, valid: { context: victim.context, ttl_s: 60 } },
    { def: cloud.RenewToken, valid: {} },
    { def: gw.PutContext, valid: { name: 'x', body: '[amiconfig]\nplugins = environment\n', visibility: 'public' } },
    { def: gw.PutCluster, valid: { definition: '[cluster]\nname = x\n' } },
    { def: gw.ListContexts, valid: {} },
    { def: gw.ListClusters, valid: {} },
    { def: gw.ListClouds, valid: {} },
    { def: gw.WhoAmI, valid: {} },
  ];
  const cloudSamples: Sample[] = [
    { def: cloud.Discover, valid: { owner: `alice@${host}`, flavor: 'small', image: 'cernvm-4', count: 2 } },
    { def: cloud.ListInstances, valid: { deployment: victim.deployment } },
    { def: cloud.CloudInfo, valid: {} },
    { def: cloud.RenewToken, valid: {} },
  ];
  const instanceSamples = (): Sample[] => [
    { def: instance.RunScript, valid: { script: run(), timeout_s: 5 } },
    {
      def: instance.Recontextualize,
      valid: { context: '[amiconfig]\nplugins = environment\n\n[environment]\nPWNED = 1\n', version: 2 },
    },
    { def: instance.Drain, valid: {} },
    { def: instance.Shutdown, valid: { reason: 'pwned' } },
    { def: instance.InstanceStatus, valid: {} },
  ];
  const victimName = `${victim.deployment}-head-1`;
  const allocate = (names: string[], deployment = victim.deployment) => ({
    request_id: `fz-${n++}`,
    deployment,
    service: 'head',
    owner: `alice@${host}`,
    flavor: 'small',
    image: 'cernvm-4',
    names,
    context: '[amiconfig]\nplugins = environment\n',
    context_version: 1,
    allow: [`mallory@${host}`],
  });
  const gatewayMessages: MessageSample[] = [
    {
      def: cloud.InstanceState,
      valid: {
        deployment: victim.deployment,
        service: 'head',
        name: victimName,
        state: 'terminated',
        at: new Date().toISOString(),
      },
    },
    {
      def: cloud.AllocateResult,
      valid: {
        request_id: 'x',
        deployment: victim.deployment,
        service: 'head',
        accepted: [],
        refused: [victimName],
        condition: 'capacity',
      },
    },
    {
      def: instance.ContextReport,
      valid: {
        instance_id: 'vm',
        deployment: victim.deployment,
        version: 1,
        ok: false,
        results: [],
        at: new Date().toISOString(),
      },
    },
    {
      def: instance.Heartbeat,
      valid: {
        instance_id: 'vm',
        deployment: victim.deployment,
        seq: 1,
        phase: 'failed',
        context_version: 9,
        load1: 99,
        mem_used_pct: 1,
        disk_used_pct: 1,
        busy: true,
        at: new Date().toISOString(),
      },
    },
  ];

  /** An IQ case: malformed, unknown, wrong IQ type, wrong payload count, or valid from `unauthorized`. */
  function iq(
    target: TargetName,
    samples: readonly Sample[],
    from: Agent,
    ns: string,
    expect: {
      refusedFirst?: Condition;
      valid?: (s: Sample) => Condition[] | undefined;
    },
  ): Case {
    const s = r.pick(samples);
    const base = { target, from, stanza: 'iq' as const };
    const first = expect.refusedFirst;
    const or = (c: Condition): Condition[] => [first ?? c];
    return weighted<Case>(r, [
      [
        5,
        () => {
          const m = malformed(r, s.def.request, s.valid);
          if (!m)
            return {
              ...base,
              kind: 'wrong-iq-type',
              type: s.def.iqType === 'get' ? 'set' : 'get',
              children: [s.def.request.encode(s.valid)],
              expect: or('bad-request'),
            };
          return {
            ...base,
            kind: `malformed:${m.how.split('+')[0]}`,
            type: s.def.iqType,
            children: [m.el],
            expect: or('bad-request'),
          };
        },
      ],
      [
        2,
        () => ({
          ...base,
          kind: 'unknown-payload',
          type: r.pick(['get', 'set'] as const),
          children: [
            unknownPayload(
              r,
              ns,
              samples.map((x) => x.def.request.name),
            ),
          ],
          expect: or('service-unavailable'),
        }),
      ],
      [
        1,
        () => ({
          ...base,
          kind: 'wrong-iq-type',
          type: s.def.iqType === 'get' ? 'set' : 'get',
          children: [s.def.request.encode(s.valid)],
          expect: or('bad-request'),
        }),
      ],
      [
        1,
        () => ({
          ...base,
          kind: 'payload-count',
          type: s.def.iqType,
          children: r.chance(0.3) ? [] : [s.def.request.encode(s.valid), s.def.request.encode(s.valid)],
          expect: or('bad-request'),
        }),
      ],
      [
        3,
        () => {
          const ok = expect.valid?.(s);
          if (!ok)
            return {
              ...base,
              kind: 'wrong-iq-type',
              type: s.def.iqType === 'get' ? 'set' : 'get',
              children: [s.def.request.encode(s.valid)],
              expect: or('bad-request'),
            };
          return {
            ...base,
            kind: 'unauthorized',
            type: s.def.iqType,
            children: [s.def.request.encode(s.valid)],
            expect: first ? [first] : ok,
          };
        },
      ],
    ]);
  }

  function message(
    target: TargetName,
    samples: readonly MessageSample[],
    from: Agent,
    ns: string,
    o: {
      refusedFirst?: Condition;
      valid: (s: MessageSample) => Condition[] | null;
    },
  ): Case {
    const s = r.pick(samples);
    const base = { target, from, stanza: 'message' as const };
    const first = o.refusedFirst;
    return weighted<Case>(r, [
      [
        3,
        () => {
          const m = malformed(r, s.def.payload, s.valid);
          return m
            ? { ...base, kind: `malformed:${m.how.split('+')[0]}`, children: [m.el], expect: [first ?? 'bad-request'] }
            : {
                ...base,
                kind: 'unauthorized',
                children: [s.def.payload.encode(s.valid)],
                expect: first ? [first] : o.valid(s),
              };
        },
      ],
      [
        1,
        () => ({
          ...base,
          kind: 'unknown-payload',
          children: [
            unknownPayload(
              r,
              ns,
              samples.map((x) => x.def.payload.name),
            ),
          ],
          expect: [first ?? 'service-unavailable'],
        }),
      ],
      [
        3,
        () => ({
          ...base,
          kind: 'unauthorized',
          children: [s.def.payload.encode(s.valid)],
          expect: first ? [first] : o.valid(s),
        }),
      ],
    ]);
  }

  const out: Case[] = [];
  const { mallory, stranger, ghost, fuzzgw, cloudb, alice } = tg;
  // What mallory may do to her own things is no attack: those requests go only malformed.
  const ownOnly = [
    gw.ListContexts,
    gw.ListClusters,
    gw.ListClouds,
    gw.WhoAmI,
    gw.PutContext,
    gw.PutCluster,
  ] as AnyRequest[];
  const forMallory = (s: Sample): Condition[] | undefined =>
    s.def === cloud.RenewToken ? ['forbidden'] : ownOnly.includes(s.def) ? undefined : ['item-not-found'];
  const forStranger = (s: Sample): Condition[] | undefined => (s.def === gw.WhoAmI ? undefined : ['forbidden']);
  for (let i = 0; i < counts.gateway; i++) {
    if (r.chance(0.1)) {
      // Reports only clouds and instances may make; the gateway trusts every sender to speak.
      const from = r.pick([mallory, stranger, ghost]);
      out.push(
        message('gateway', gatewayMessages, from, gw.NS_GATEWAY, {
          valid: (s) => (s.def === cloud.InstanceState || s.def === cloud.AllocateResult ? ['not-authorized'] : null),
        }),
      );
    } else if (r.chance(0.5)) {
      // A user of the gateway going after alice's deployment, context and cluster.
      out.push(iq('gateway', gatewaySamples, mallory, gw.NS_GATEWAY, { valid: forMallory }));
    } else {
      // A JID the gateway does not serve at all.
      out.push(iq('gateway', gatewaySamples, stranger, gw.NS_GATEWAY, { valid: forStranger }));
    }
  }
  for (let i = 0; i < counts.cloud; i++) {
    const from = r.pick([mallory, ghost, ghost, fuzzgw, fuzzgw]);
    const refusedFirst: Condition | undefined = from === mallory ? 'not-authorized' : undefined;
    if (r.chance(0.3)) {
      const msgs: MessageSample[] = [
        { def: cloud.Allocate, valid: allocate(from === fuzzgw ? [victimName] : [`fz-${n}`]) },
        {
          def: cloud.Terminate,
          valid: {
            request_id: `t-${n++}`,
            deployment: victim.deployment,
            owner: `alice@${host}`,
            names: r.chance(0.5) ? [] : [victimName],
          },
        },
      ];
      // fuzzgw may request, but not under another's name, nor another requester's instances.
      out.push(
        message('cloud', msgs, from, cloud.NS_CLOUD, {
          refusedFirst,
          valid: (s) => (from === fuzzgw && s.def === cloud.Allocate ? null : ['forbidden']),
        }),
      );
    } else {
      out.push(
        iq('cloud', cloudSamples, from, cloud.NS_CLOUD, {
          refusedFirst,
          valid: (s) => (from === fuzzgw && s.def !== cloud.RenewToken ? undefined : ['forbidden']),
        }),
      );
    }
  }
  for (let i = 0; i < counts.instance; i++) {
    const from = r.pick([mallory, ghost, cloudb, cloudb, alice]);
    const refusedFirst: Condition | undefined = from === mallory || from === ghost ? 'not-authorized' : undefined;
    if (r.chance(0.08)) {
      // An instance serves no message at all: whatever the payload, it is an unknown one.
      const c = message('instance', gatewayMessages, from, instance.NS_INSTANCE, {
        refusedFirst,
        valid: () => ['service-unavailable'],
      });
      out.push({ ...c, expect: [refusedFirst ?? 'service-unavailable'] });
    } else {
      out.push(
        iq('instance', instanceSamples(), from, instance.NS_INSTANCE, {
          refusedFirst,
          valid: () => (from === alice ? undefined : ['not-authorized']),
        }),
      );
    }
  }
  return out;
}
