// Rows of the page from the custom resources and from the standalone gateway: status fields
// copied, server sessions listed, uptime from the oldest session, and nothing secret.
import { describe, expect, it } from 'vitest';
import type { SmppClientBind, SmppServerBind } from '../../../src/api/index.js';
import {
  rowFromClientResource,
  rowFromLocalServer,
  rowFromServerResource,
} from '../../../src/console/rows.js';

const ready = (status: 'True' | 'False', reason: string, message?: string) => ({
  type: 'Ready',
  status,
  reason,
  lastTransitionTime: '2026-12-02T10:00:00Z',
  ...(message ? { message } : {}),
});

describe('rows', () => {
  it('a client bind from its resource: phase, Ready, error, pod, uptime only while Bound, no Secret', () => {
    const b = {
      apiVersion: 'smpp.omnimessage.io/v1alpha1',
      kind: 'SmppClientBind',
      metadata: { name: 'c', namespace: 'ns' },
      spec: {
        host: 'smsc.example',
        systemId: 'sys',
        passwordSecretRef: { name: 'creds', key: 'password' },
        tpsLimit: 50,
      },
      status: {
        phase: 'Error',
        conditions: [ready('False', 'BindFailed', 'ESME_RINVPASWD')],
        lastError: 'bind refused',
        gatewayPod: 'gw-a',
        boundSince: '2026-12-02T10:00:00Z',
      },
    } as unknown as SmppClientBind;
    const row = rowFromClientResource(b);
    expect(row).toMatchObject({
      key: 'client/ns/c',
      phase: 'Error',
      ready: { status: 'False', reason: 'BindFailed', message: 'ESME_RINVPASWD' },
      lastError: 'bind refused',
      gatewayPod: 'gw-a',
      host: 'smsc.example',
      port: 2775,
      bindType: 'transceiver',
      tpsLimit: 50,
      suspended: false,
    });
    expect(row.boundSince).toBeUndefined();
    expect(JSON.stringify(row)).not.toContain('creds');
  });

  it('a server bind from its resource lists its sessions and is up since the oldest', () => {
    const b = {
      metadata: { name: 'p', namespace: 'ns' },
      spec: {
        systemId: 'partner',
        passwordSecretRef: { name: 's', key: 'k' },
        allowedBindTypes: ['transmitter'],
      },
      status: {
        phase: 'Bound',
        conditions: [ready('True', 'SessionsActive')],
        sessions: [
          {
            pod: 'gw-b',
            peerAddress: '203.0.113.7:4000',
            bindType: 'transmitter',
            since: '2026-12-02T10:05:00Z',
          },
          {
            pod: 'gw-a',
            peerAddress: '203.0.113.8:4001',
            bindType: 'transmitter',
            since: '2026-12-02T10:01:00Z',
          },
        ],
      },
    } as unknown as SmppServerBind;
    const row = rowFromServerResource(b);
    expect(row.bindType).toBe('transmitter');
    expect(row.sessions).toEqual([
      { pod: 'gw-b', peer: '203.0.113.7:4000', bindType: 'transmitter', since: '2026-12-02T10:05:00Z' },
      { pod: 'gw-a', peer: '203.0.113.8:4001', bindType: 'transmitter', since: '2026-12-02T10:01:00Z' },
    ]);
    expect(row.boundSince).toBe('2026-12-02T10:01:00Z');
  });

  it('a standalone server bind: the sessions this gateway holds, up since the oldest', () => {
    const since = (m: number) => new Date(Date.UTC(2026, 11, 2, 10, m));
    const session = (id: string, m: number) => ({
      key: id,
      id,
      peerAddress: '127.0.0.1',
      peerPort: 40000 + m,
      bindType: 'receiver' as const,
      since: since(m),
    });
    const row = rowFromLocalServer(
      'default',
      'p',
      {
        systemId: 'partner',
        passwordSecretRef: { name: 's', key: 'k' },
      } as unknown as SmppServerBind['spec'],
      { phase: 'Bound', sessions: [session('b', 7), session('a', 3)] },
      'demo-gateway',
      since(8),
    );
    expect(row.phase).toBe('Bound');
    expect(row.gatewayPod).toBe('demo-gateway');
    expect(row.sessions?.map((s) => s.peer).sort()).toEqual(['127.0.0.1:40003', '127.0.0.1:40007']);
    expect(row.boundSince).toBe(since(3).toISOString().replace('.000Z', 'Z'));
    expect(row.bindType).toBe('transmitter, receiver, transceiver');
  });
});
