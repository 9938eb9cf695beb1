import type { CoreEndpoint, CoreOutcome } from '../metrics.js';

/**
 * A core API call failed. `temporary` tells the caller whether trying again later can succeed:
 * timeouts, refused/reset connections, 5xx, 408 and 429 are temporary; any other 4xx means the
 * core rejected this request and repeating it will not help.
 */
export class CoreError extends Error {
  readonly status?: number;
  readonly endpoint: string;
  readonly temporary: boolean;
  /** What kind of failure, as counted in smpp_core_api_requests_total{outcome}. */
  readonly outcome: Exclude<CoreOutcome, 'success'>;

  constructor(
    message: string,
    init: {
      endpoint: CoreEndpoint | string;
      status?: number;
      temporary: boolean;
      outcome: Exclude<CoreOutcome, 'success'>;
      cause?: unknown;
    },
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'CoreError';
    this.endpoint = init.endpoint;
    this.temporary = init.temporary;
    this.outcome = init.outcome;
    if (init.status !== undefined) this.status = init.status;
  }
}

/** 408 Request Timeout and 429 Too Many Requests are the 4xx a retry can cure. */
export function isTemporaryStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
