/**
 * Who is looking, and what they may do, with the viewer's own Kubernetes identity: the bearer
 * token is checked with TokenReview, and SubjectAccessReview answers whether that user may
 * `patch` a bind. The pod's ServiceAccount only asks these questions; it never acts for them.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { GROUP } from '../api/index.js';
import { requestAnswer } from '../kube/http.js';
import { statusMessage } from './kube-api.js';
import type { BindMode } from './types.js';

export interface KubeUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export type Authn = { ok: true; user: KubeUser } | { ok: false; status: number; message: string };

interface TokenReviewStatus {
  status?: { authenticated?: boolean; user?: KubeUser; error?: string };
}

interface SarStatus {
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}

export const PLURAL: Record<BindMode, string> = { client: 'smppclientbinds', server: 'smppserverbinds' };

const CACHE_MS = 10_000;
/** The console's own calls answer a person waiting at the page. */
const TIMEOUT_MS = 10_000;

export class KubeAuth {
  /** Recent TokenReview answers by token hash: a page asks on every action and session. */
  private readonly cache = new Map<string, { at: number; result: Authn }>();

  constructor(private readonly kc: KubeConfig) {}

  async authenticate(token: string | undefined): Promise<Authn> {
    if (token === undefined || token === '') {
      return { ok: false, status: 401, message: 'no bearer token: sign in with a Kubernetes token to act' };
    }
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.result;
    const r = await requestAnswer<TokenReviewStatus>(
      this.kc,
      'POST',
      '/apis/authentication.k8s.io/v1/tokenreviews',
      {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
        timeoutMs: TIMEOUT_MS,
      },
    );
    let result: Authn;
    if (r.status !== 201 && r.status !== 200) {
      result = {
        ok: false,
        status: 503,
        message: `TokenReview failed (${r.status}): ${statusMessage(r.body, 'no answer')}`,
      };
    } else if (r.body.status?.authenticated === true && r.body.status.user?.username) {
      result = { ok: true, user: r.body.status.user };
    } else {
      result = { ok: false, status: 401, message: 'the token was not accepted by the API server' };
    }
    if (result.ok || result.status !== 503) {
      if (this.cache.size > 1000) this.cache.clear();
      this.cache.set(key, { at: Date.now(), result });
    }
    return result;
  }

  /** May `user` patch binds of `mode` in `namespace` (and, with `name`, that one bind)? */
  async mayPatch(user: KubeUser, mode: BindMode, namespace: string, name?: string): Promise<boolean> {
    const resourceAttributes: Record<string, string> = {
      group: GROUP,
      resource: PLURAL[mode],
      verb: 'patch',
      namespace,
    };
    if (name !== undefined) resourceAttributes.name = name;
    const spec: Record<string, unknown> = { user: user.username, resourceAttributes };
    if (user.uid) spec.uid = user.uid;
    if (user.groups) spec.groups = user.groups;
    if (user.extra) spec.extra = user.extra;
    const r = await requestAnswer<SarStatus>(
      this.kc,
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      {
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
        timeoutMs: TIMEOUT_MS,
      },
    );
    if (r.status !== 201 && r.status !== 200) {
      throw new Error(`SubjectAccessReview failed (${r.status}): ${statusMessage(r.body, 'no answer')}`);
    }
    return r.body.status?.allowed === true;
  }
}
