import { describe, expect, it } from 'vitest';
import { Accounting } from '../../../src/gateway/accounting.js';

describe('Accounting', () => {
  it('keeps taken == sent + returned + failed + released + inFlight and rolls up to the parent', () => {
    const total = new Accounting();
    const a = new Accounting(total);
    const b = new Accounting(total);
    a.take(3);
    b.take(3);
    a.settle('sent');
    a.settle('returned');
    b.settle('failed');
    b.settle('released');
    expect(a.inFlight).toBe(1);
    expect(b.inFlight).toBe(1);
    const s = total.snapshot();
    expect(s).toMatchObject({ taken: 6, sent: 1, returned: 1, failed: 1, released: 1, inFlight: 2 });
    expect(s.taken).toBe(s.sent + s.returned + s.failed + s.released + s.inFlight);
  });

  it('tracks reports pending and abandoned', () => {
    const total = new Accounting();
    const a = new Accounting(total);
    a.reportStarted();
    a.reportStarted();
    a.reportDone();
    a.reportDone(true);
    expect(total.snapshot()).toMatchObject({ reportsPending: 0, reportsAbandoned: 1 });
  });
});
