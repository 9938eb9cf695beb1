// Starts Debian's Kannel (bearerbox + smsbox) as an ESME bound to an SMPP server of ours, with an
// HTTP service URL for what it receives. Loopback only; stop() ends both boxes and removes files.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort, spawnManaged, waitForPort, type ManagedProcess } from '../../bench/lib/proc.js';

export const BEARERBOX = '/usr/sbin/bearerbox';

export function kannelInstalled(): boolean {
  return spawnSync(BEARERBOX, ['--version']).error === undefined;
}

export interface KannelEsmeOptions {
  smppPort: number;
  systemId: string;
  password: string;
  /** Kannel calls this for every MO (sms-service get-url), with from, to, coding and the body. */
  moUrl: string;
}

export interface KannelEsme {
  sendsms(params: Record<string, string>): Promise<{ status: number; body: string }>;
  status(): Promise<string>;
  stop(): Promise<void>;
  bearerbox: ManagedProcess;
}

export async function startKannelEsme(o: KannelEsmeOptions): Promise<KannelEsme> {
  const dir = await mkdtemp(join(tmpdir(), 'kannel-compat-'));
  const admin = await freePort();
  const box = await freePort();
  const sendsms = await freePort();
  const conf = `group = core
admin-port = ${admin}
admin-interface = 127.0.0.1
admin-password = compat
admin-allow-ip = "127.0.0.1"
smsbox-port = ${box}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "${join(dir, 'bearerbox.log')}"
log-level = 1
dlr-storage = internal
# Temporary SMPP failures (throttling, queue full) are retried after this many seconds (default 60).
sms-resend-freq = 1

group = smsc
smsc = smpp
smsc-id = ours
host = 127.0.0.1
port = ${o.smppPort}
transceiver-mode = true
smsc-username = ${o.systemId}
smsc-password = ${o.password}
system-type = ""
msg-id-type = 0x00
enquire-link-interval = 30
reconnect-delay = 1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = ${box}
sendsms-port = ${sendsms}
sendsms-interface = 127.0.0.1
log-file = "${join(dir, 'smsbox.log')}"
log-level = 1

group = sendsms-user
username = compat
password = compat
user-allow-ip = "127.0.0.1"
max-messages = 1
concatenation = false

group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "${o.moUrl}?from=%p&to=%P&coding=%c&body=%b"
`;
  await writeFile(join(dir, 'kannel.conf'), conf);
  const procs: ManagedProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const p of procs.reverse()) await p.stop(3000);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const bearerbox = spawnManaged('bearerbox', BEARERBOX, ['-v', '4', join(dir, 'kannel.conf')], dir);
    procs.push(bearerbox);
    await waitForPort(box, 20_000, bearerbox);
    const smsbox = spawnManaged('smsbox', '/usr/sbin/smsbox', ['-v', '4', join(dir, 'kannel.conf')], dir);
    procs.push(smsbox);
    await waitForPort(sendsms, 20_000, smsbox);
    return {
      bearerbox,
      stop,
      status: async () => (await request(`http://127.0.0.1:${admin}/status.txt?password=compat`)).body.text(),
      sendsms: async (params) => {
        const q = new URLSearchParams({ username: 'compat', password: 'compat', ...params });
        const res = await request(`http://127.0.0.1:${sendsms}/cgi-bin/sendsms?${q.toString()}`);
        return { status: res.statusCode, body: await res.body.text() };
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
