import { ValidationError } from './store.js';

/** One registration period of a frontend (seeds: "Monitoramento de Saúde do Frontend"). */
export interface FrontendRecord {
  id: number;
  frontend_name: string;
  frontend_type: string;
  ip_address: string;
  hostname: string | null;
  uptime_seconds: number | null;
  configuration: string | null;
  status: 'active' | 'expired';
  last_seen_at: string;
  expires_at: string;
  inserted_at: string;
}

/** Registrations expire 90 s after the last heartbeat. */
export const FRONTEND_TTL_MS = 90_000;

export class FrontendRegistry {
  private readonly records: FrontendRecord[] = [];
  private nextId = 1;
  /** Heartbeats received, for tests. */
  heartbeats = 0;

  constructor(private readonly now: () => number = Date.now) {}

  clear(): void {
    this.records.length = 0;
    this.heartbeats = 0;
  }

  /**
   * POST /api/frontends: an active registration of the same name is extended; a new or
   * expired one starts a new registration period.
   */
  register(input: Record<string, unknown>, sourceIp: string): FrontendRecord | ValidationError {
    const errors: Record<string, string[]> = {};
    if (typeof input.frontend_name !== 'string' || input.frontend_name === '')
      errors.frontend_name = ["can't be blank"];
    if (typeof input.frontend_type !== 'string' || input.frontend_type === '')
      errors.frontend_type = ["can't be blank"];
    if (
      input.configuration !== undefined &&
      input.configuration !== null &&
      typeof input.configuration !== 'string'
    ) {
      errors.configuration = ['must be a JSON string'];
    }
    if (Object.keys(errors).length > 0) return new ValidationError(errors);
    this.refresh();
    this.heartbeats++;
    const now = this.now();
    const name = input.frontend_name as string;
    let r = this.records.find((x) => x.frontend_name === name && x.status === 'active');
    if (r === undefined) {
      r = {
        id: this.nextId++,
        frontend_name: name,
        frontend_type: input.frontend_type as string,
        ip_address: '',
        hostname: null,
        uptime_seconds: null,
        configuration: null,
        status: 'active',
        last_seen_at: '',
        expires_at: '',
        inserted_at: new Date(now).toISOString(),
      };
      this.records.push(r);
    }
    r.frontend_type = input.frontend_type as string;
    r.ip_address =
      typeof input.ip_address === 'string' && input.ip_address !== '' ? input.ip_address : sourceIp;
    if (typeof input.hostname === 'string') r.hostname = input.hostname;
    if (typeof input.uptime_seconds === 'number') r.uptime_seconds = input.uptime_seconds;
    if (typeof input.configuration === 'string') r.configuration = input.configuration;
    r.last_seen_at = new Date(now).toISOString();
    r.expires_at = new Date(now + FRONTEND_TTL_MS).toISOString();
    return { ...r };
  }

  /** All registrations, most recent activity first. */
  all(): FrontendRecord[] {
    this.refresh();
    return this.records.map((r) => ({ ...r })).sort((a, b) => b.last_seen_at.localeCompare(a.last_seen_at));
  }

  active(): FrontendRecord[] {
    return this.all().filter((r) => r.status === 'active');
  }

  stats(): { active: number; expired: number; unique_frontends: number } {
    this.refresh();
    const active = this.records.filter((r) => r.status === 'active').length;
    return {
      active,
      expired: this.records.length - active,
      unique_frontends: new Set(this.records.map((r) => r.frontend_name)).size,
    };
  }

  history(name: string): FrontendRecord[] {
    return this.all().filter((r) => r.frontend_name === name);
  }

  get(id: number): FrontendRecord | undefined {
    this.refresh();
    const r = this.records.find((x) => x.id === id);
    return r === undefined ? undefined : { ...r };
  }

  private refresh(): void {
    const now = this.now();
    for (const r of this.records)
      if (r.status === 'active' && Date.parse(r.expires_at) <= now) r.status = 'expired';
  }
}
