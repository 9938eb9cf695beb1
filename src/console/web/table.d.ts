// Types of table.js for the server side (the module itself is plain JavaScript: the browser
// loads it as it is).
import type { BindMode, BindRow, ConsoleMeta, Viewer } from '../types.js';

/** true, or a sentence saying why the viewer may not act. */
export type May = true | string;

export const COLUMNS: Record<BindMode, ReadonlyArray<readonly [field: string, heading: string]>>;
export const ANONYMOUS: Viewer;
export function esc(value: unknown): string;
export function formatCount(n: number): string;
export function formatUptime(sinceIso: string | undefined, now?: number): string;
export function permission(row: BindRow, meta: ConsoleMeta | undefined, viewer: Viewer): May;
export function cellsOf(row: BindRow, may: May, now?: number): string[];
export function rowSig(row: BindRow): string;
export function rowHtml(row: BindRow, may: May, now?: number): string;
export function headHtml(mode: BindMode): string;
export function sortKey(key: string): string;
export function byName(a: { key: string }, b: { key: string }): number;
export function searchText(row: BindRow): string;
export function totals(rows: Iterable<BindRow>, meta?: ConsoleMeta): Record<string, string>;
export function servedByText(meta: ConsoleMeta): string;
export function noticeText(meta: ConsoleMeta): string;
