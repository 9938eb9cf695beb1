/**
 * Runs the Argo CD health Lua of manifests/examples/gitops/argocd-health.yaml under a real Lua
 * 5.1 interpreter (Argo CD's gopher-lua speaks 5.1) against bind objects in each state, and
 * checks the health status Argo CD would show.
 *
 *   node hack/argocd-health-check.ts [LUA_BINARY]   (default lua5.1)
 */
import { argoHealth, type Json } from './argocd-health.ts';

const ready = (status: string, message = 'm') => ({
  type: 'Ready',
  status,
  reason: 'R',
  message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

interface Case {
  name: string;
  kind: 'SmppClientBind' | 'SmppServerBind';
  obj: { [key: string]: Json };
  want: string;
  message?: string;
}

const meta = { name: 'b', namespace: 'n', generation: 2 };
const cases: Case[] = [
  { name: 'no status yet', kind: 'SmppClientBind', obj: { metadata: meta, spec: {} }, want: 'Progressing' },
  {
    name: 'bound',
    kind: 'SmppClientBind',
    obj: {
      metadata: meta,
      spec: {},
      status: { observedGeneration: 2, phase: 'Bound', conditions: [ready('True')] },
    },
    want: 'Healthy',
  },
  {
    name: 'stale generation',
    kind: 'SmppClientBind',
    obj: {
      metadata: meta,
      spec: {},
      status: { observedGeneration: 1, phase: 'Bound', conditions: [ready('True')] },
    },
    want: 'Progressing',
  },
  {
    name: 'wrong password',
    kind: 'SmppClientBind',
    obj: {
      metadata: meta,
      spec: {},
      status: {
        observedGeneration: 2,
        phase: 'Error',
        lastError: 'bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)',
        conditions: [ready('False', 'bind failed')],
      },
    },
    want: 'Degraded',
    message: 'bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)',
  },
  {
    name: 'connecting',
    kind: 'SmppClientBind',
    obj: {
      metadata: meta,
      spec: {},
      status: { observedGeneration: 2, phase: 'Connecting', conditions: [ready('False')] },
    },
    want: 'Progressing',
  },
  {
    name: 'suspended',
    kind: 'SmppClientBind',
    obj: {
      metadata: meta,
      spec: { suspend: true },
      status: { observedGeneration: 2, phase: 'Suspended', conditions: [ready('False')] },
    },
    want: 'Suspended',
  },
  {
    name: 'partner ready',
    kind: 'SmppServerBind',
    obj: { metadata: meta, spec: {}, status: { observedGeneration: 2, conditions: [ready('True')] } },
    want: 'Healthy',
  },
  {
    name: 'partner secret missing',
    kind: 'SmppServerBind',
    obj: {
      metadata: meta,
      spec: {},
      status: { observedGeneration: 2, conditions: [ready('False', 'Secret n/p not found')] },
    },
    want: 'Degraded',
    message: 'Secret n/p not found',
  },
];

const lua = process.argv[2] ?? 'lua5.1';
let failed = 0;
for (const c of cases) {
  const { status, message } = argoHealth(c.kind, c.obj, lua);
  const ok = status === c.want && (c.message === undefined || message === c.message);
  if (!ok) failed++;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${c.kind} ${c.name}: ${status} (${message})${ok ? '' : `, want ${c.want}`}`,
  );
}
if (failed > 0) {
  console.error(`argocd-health-check: ${failed} case(s) failed`);
  process.exit(1);
}
