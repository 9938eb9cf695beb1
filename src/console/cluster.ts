/**
 * The console in a cluster: every bind of the watched namespaces from the controller's
 * informer cache (spec + the status the pods wrote), counters gathered from every pod, and
 * actions done as the viewer: TokenReview, SubjectAccessReview, then the patch itself sent
 * with the viewer's own token, so the API server authorizes and audits it as theirs.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { RECONNECT_ANNOTATION, VERSION, GROUP } from '../api/index.js';
import type { GatewayConfig } from '../config.js';
import type { BindsView } from '../controller/controller.js';
import type { Logger } from '../log.js';
import { KubeAuth, PLURAL } from './auth.js';
import { requestAnswer } from '../kube/http.js';
import { statusMessage, userKubeConfig } from './kube-api.js';
import { gatherCounters, type PeerDirectory } from './peers.js';
import { rowFromClientResource, rowFromServerResource } from './rows.js';
import type { ActionRequest, ActionResult, BindRow, ConsoleMeta, ConsoleSource, Viewer } from './types.js';

export interface ClusterConsoleOptions {
  config: GatewayConfig;
  kubeConfig: KubeConfig;
  binds: BindsView;
  /** Where the other pods' counters are; undefined: this pod's only. */
  peers?: PeerDirectory;
  log: Logger;
}

function patchFor(req: ActionRequest): Record<string, unknown> {
  switch (req.action) {
    case 'reconnect':
      return { metadata: { annotations: { [RECONNECT_ANNOTATION]: new Date().toISOString() } } };
    case 'disconnect':
      return { spec: { suspend: true } };
    case 'connect':
      return { spec: { suspend: false } };
  }
}

export function clusterConsole(o: ClusterConsoleOptions): ConsoleSource {
  const auth = new KubeAuth(o.kubeConfig);
  const log = o.log.child({ component: 'console' });
  const rows = (): BindRow[] => [
    ...o.binds.clients().map(rowFromClientResource),
    ...o.binds.servers().map(rowFromServerResource),
  ];
  return {
    meta(): ConsoleMeta {
      return {
        mode: 'cluster',
        servedBy: o.config.podName,
        listener: {
          host: o.config.listenHost,
          port: o.config.listenPort,
          maxConnections: o.config.maxConnections,
          tls: o.config.listenTlsCertFile !== undefined,
        },
        actions: 'kubernetes',
      };
    },
    rows,
    onChange: (cb) => o.binds.onChange(cb),
    async viewer(bearer): Promise<Viewer | { status: number; message: string }> {
      if (bearer === undefined) return { canPatch: {} };
      const a = await auth.authenticate(bearer);
      if (!a.ok) return { status: a.status, message: a.message };
      // One question per namespace and kind shown, not per bind: a page of 1,000 binds costs a
      // handful of SubjectAccessReviews. Each action asks again for its own bind.
      const scopes = new Set(rows().map((r) => `${r.mode}/${r.namespace}`));
      const canPatch: Record<string, boolean> = {};
      await Promise.all(
        [...scopes].map(async (scope) => {
          const [mode, namespace] = scope.split('/') as ['client' | 'server', string];
          canPatch[scope] = await auth.mayPatch(a.user, mode, namespace).catch((err: unknown) => {
            log.warn({ err, namespace }, 'console: SubjectAccessReview failed');
            return false;
          });
        }),
      );
      return { username: a.user.username, canPatch };
    },
    async act(req, bearer): Promise<ActionResult> {
      if (req.mode === 'server' && req.action === 'reconnect') {
        return { status: 400, message: 'server binds have no reconnect: partners bind to us' };
      }
      const a = await auth.authenticate(bearer);
      if (!a.ok) return { status: a.status, message: a.message };
      const user = a.user.username;
      let allowed: boolean;
      try {
        allowed = await auth.mayPatch(a.user, req.mode, req.namespace, req.name);
      } catch (err) {
        log.warn({ err, namespace: req.namespace, bind: req.name }, 'console: SubjectAccessReview failed');
        return { status: 503, message: 'cannot check permissions right now (SubjectAccessReview failed)' };
      }
      if (!allowed) {
        return {
          status: 403,
          message: `${user} may not patch ${PLURAL[req.mode]} ${req.namespace}/${req.name}`,
        };
      }
      const path = `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(req.namespace)}/${PLURAL[req.mode]}/${encodeURIComponent(req.name)}`;
      // A KubeConfig of the viewer's token for this one request: not pooled.
      const r = await requestAnswer(userKubeConfig(o.kubeConfig, bearer as string), 'PATCH', path, {
        body: patchFor(req),
        contentType: 'application/merge-patch+json',
        timeoutMs: 10_000,
        pooled: false,
      });
      if (r.status >= 200 && r.status < 300) {
        log.info(
          { namespace: req.namespace, bind: req.name, user, action: req.action },
          'console action done as the viewer',
        );
        const done = {
          reconnect: 'reconnecting',
          disconnect: 'suspended (spec.suspend: true)',
          connect: 'resumed (spec.suspend: false)',
        };
        return { status: 200, message: `${req.namespace}/${req.name}: ${done[req.action]} by ${user}` };
      }
      return { status: r.status, message: statusMessage(r.body, `the API server answered ${r.status}`) };
    },
    counters: (local) => gatherCounters(o.config.podName, local, o.peers?.peers() ?? [], log),
    close: async () => {
      await o.peers?.stop();
    },
  };
}
