export { Gateway } from './gateway.js';
export type { GatewayDeps, GatewayAccounting, BindView } from './gateway.js';
export type { BindRuntimeStatus, BindKind, ResolvedClientBind, ResolvedServerBind } from './types.js';
export { CarrierIdMap } from './carrier-id-map.js';
export type { CarrierIdMapOptions, CarrierIdEntry, PartGroup } from './carrier-id-map.js';
export { createReceiptStore, MemoryReceiptStore, RedisReceiptStore } from '../receipt-store/index.js';
export type { ReceiptStore } from '../receipt-store/index.js';
export { Accounting } from './accounting.js';
export type { AccountingSnapshot, Outcome } from './accounting.js';
export { runGateway, manifestFolderSource } from './run-gateway.js';
export type {
  DesiredStateSource,
  RunningSource,
  RunGatewayOptions,
  RunningGateway,
  SourceContext,
} from './run-gateway.js';
