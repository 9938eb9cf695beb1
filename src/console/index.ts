/**
 * The Live Status console (the seeds' web UI, "SMPP → Live Status"): every bind with its state
 * and counters, live, with Reconnect / Disconnect / Connect. Started by runGateway when
 * CONSOLE_PORT is not 0, over what the desired-state source provides (files or cluster).
 */
import type { GatewayConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { CounterSnapshot } from './hub.js';
import { podReport, readCounters, type GatewayView } from './local-report.js';
import { startConsoleServer, type ConsoleServer } from './server.js';
import type { ConsoleSource } from './types.js';

export type { ConsoleServer } from './server.js';
export type { ConsoleSource, BindRow, ConsoleMeta } from './types.js';
export type { PodReport } from './local-report.js';

export interface StartConsoleOptions {
  config: GatewayConfig;
  gateway: GatewayView;
  metrics: Metrics;
  source: { defaultHost: string; create(host: string): ConsoleSource };
  log: Logger;
}

export async function startConsole(o: StartConsoleOptions): Promise<ConsoleServer> {
  const host = o.config.consoleHost ?? o.source.defaultHost;
  const source = o.source.create(host);
  const local = () => podReport(o.config.podName, o.gateway, o.metrics);
  const counters =
    source.counters !== undefined
      ? () => (source.counters as NonNullable<ConsoleSource['counters']>)(local)
      : async (): Promise<CounterSnapshot> => ({ byKey: await readCounters(o.metrics), unreachable: [] });
  return startConsoleServer({
    host,
    port: o.config.consolePort,
    source,
    counters,
    podReport: local,
    log: o.log,
  });
}
