import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../log.js';
import { createControlServer } from './control-http.js';
import { SmscSim, type SmscSimOptions } from './smsc.js';

export { SmscSim, SimRequestError } from './smsc.js';
export type {
  SmscSimOptions,
  SimUser,
  SimStats,
  SubmitRecord,
  DeliveryRecord,
  MoResult,
  SimSessionInfo,
} from './smsc.js';
export type { FaultRequest, FaultSnapshot } from './faults.js';
export type { MoRequest } from './mo.js';
export type { ReceiptPolicy, ReceiptPolicyInput } from './receipts.js';
export type { BindEvent, SystemBinds, SimBindType } from './binds.js';
export { CONTROL_ROUTES } from './control-http.js';

export interface StartSmscSimOptions extends SmscSimOptions {
  /** Default 127.0.0.1; both listeners bind here. */
  host?: string;
  /** Default 0: an ephemeral port. */
  smppPort?: number;
  /** Default 0: an ephemeral port; null: no HTTP control endpoint. */
  httpPort?: number | null;
  log?: Logger;
}

export interface RunningSmscSim {
  smppPort: number;
  /** null when started with httpPort: null. */
  httpPort: number | null;
  close(): Promise<void>;
  state: SmscSim;
}

export async function startSmscSim(opts: StartSmscSimOptions = {}): Promise<RunningSmscSim> {
  const host = opts.host ?? '127.0.0.1';
  const log = (opts.log ?? createLogger({ level: process.env.LOG_LEVEL ?? 'warn' })).child({
    component: 'smsc-sim',
  });
  const sim = new SmscSim(opts, log);
  const smppPort = await sim.listen(host, opts.smppPort ?? 0);
  let httpPort: number | null = null;
  let http: ReturnType<typeof createControlServer> | undefined;
  if (opts.httpPort !== null) {
    const server = createControlServer(sim, log);
    http = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.httpPort ?? 0, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await sim.close();
      throw err;
    }
    httpPort = (server.address() as AddressInfo).port;
  }
  log.info({ host, smppPort, httpPort, sink: sim.sink }, 'smsc simulator listening');
  return {
    smppPort,
    httpPort,
    state: sim,
    close: async () => {
      const httpClosed = http
        ? new Promise<void>((resolve) => {
            http.close(() => resolve());
            http.closeAllConnections();
          })
        : Promise.resolve();
      await Promise.all([sim.close(), httpClosed]);
    },
  };
}
