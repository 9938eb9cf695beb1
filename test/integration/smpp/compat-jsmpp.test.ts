// Compatibility with jSMPP 3.0.2 (a widely used Java SMPP library; hack/jsmpp.sh fetches it from
// Maven Central and compiles compat/JsmppEsme.java) as a partner ESME against our listener. jSMPP
// reads responses on a worker: when the listener closed right after a negative bind_resp, it saw
// the close first and reported a timeout in 8 of 20 tries.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import {
  SmppListener,
  type ServerBindEntry,
  type ServerSessionInfo,
} from '../../../src/smpp/server-listener.js';
import { waitFor } from './peer.js';

const log = createLogger({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
let classpath = '';

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

beforeAll(() => {
  const script = fileURLToPath(new URL('../../../hack/jsmpp.sh', import.meta.url));
  const built = spawnSync(script, { encoding: 'utf8', timeout: 300_000 });
  if (built.status !== 0) throw new Error(`hack/jsmpp.sh failed: ${built.stderr}`);
  classpath = built.stdout.trim();
}, 300_000);

const entry: ServerBindEntry = {
  key: 'ns/jsmpp',
  namespace: 'ns',
  name: 'jsmpp',
  smscName: 'jsmpp',
  systemId: 'jsmppesme',
  password: 'pw',
  allowedBindTypes: ['transceiver'],
  ipAllowlist: [],
  tpsLimit: 0,
  inboundTpsLimit: 0,
  maxSessions: 2,
  suspend: false,
};

/** Runs the jSMPP ESME `tries` times in one JVM; resolves with its lines once it exits. */
function jsmpp(
  port: number,
  password: string,
  tries: number,
): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(
    'java',
    ['-cp', classpath, 'JsmppEsme', '127.0.0.1', String(port), 'jsmppesme', password, String(tries)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  cleanups.push(() => {
    if (child.exitCode === null) child.kill();
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      const lines = out.split('\n').filter((x) => x !== '');
      if (code !== 0) lines.push(`stderr: ${err.trim()}`);
      resolve({ code, lines });
    }),
  );
}

async function listener(): Promise<{ l: SmppListener; port: number }> {
  // freeAttempts: these tests are about each answer arriving, not the slow-down of guessers.
  const l = new SmppListener(
    { host: '127.0.0.1', port: 0, maxConnections: 8, slowdown: { freeAttempts: 100 } },
    log,
  );
  cleanups.push(() => l.close());
  l.setBinds([entry]);
  let n = 0;
  l.setSubmitHandler(async () => ({ status: 0, messageId: `j${++n}` }));
  const { port } = await l.listen();
  return { l, port };
}

describe('compatibility with jSMPP 3.0.2', () => {
  it('a jSMPP ESME with a wrong password sees ESME_RINVPASWD every time in 20 tries', async () => {
    const { port } = await listener();
    const { code, lines } = await jsmpp(port, 'wrong', 20);
    expect(code).toBe(0);
    expect(lines).toEqual(Array.from({ length: 20 }, () => 'bind 14'));
  }, 120_000);

  it('a jSMPP ESME binds, submits and unbinds 20 times; each unbind is answered and the session closed', async () => {
    const { l, port } = await listener();
    const closed: string[] = [];
    l.on('sessionClosed', (_i: ServerSessionInfo, reason: string) => closed.push(reason));
    const { code, lines } = await jsmpp(port, 'pw', 20);
    expect(code).toBe(0);
    const expected: string[] = [];
    for (let i = 1; i <= 20; i++) expected.push('bind 0', `submit j${i}`, 'unbind closed');
    expect(lines).toEqual(expected);
    await waitFor(() => closed.length === 20, 10_000, '20 sessions closed');
    expect(closed).toEqual(Array.from({ length: 20 }, () => 'unbind by peer'));
  }, 120_000);
});
