import { describe, expect, it } from 'vitest';
import { addressFor, CodecError } from '../../../src/codec/index.js';

describe('addressFor', () => {
  it('international: leading + or 00, or E.164 digits', () => {
    expect(addressFor('+44 7700-900123')).toEqual({ ton: 1, npi: 1, addr: '447700900123' });
    expect(addressFor('00447700900123')).toEqual({ ton: 1, npi: 1, addr: '447700900123' });
    expect(addressFor('5511999998888')).toEqual({ ton: 1, npi: 1, addr: '5511999998888' });
  });

  it('national with a trunk 0, short codes as unknown', () => {
    expect(addressFor('07700900123')).toEqual({ ton: 2, npi: 1, addr: '07700900123' });
    expect(addressFor('12345')).toEqual({ ton: 0, npi: 1, addr: '12345' });
  });

  it('alphanumeric senders are TON 5 NPI 0, at most 11 GSM characters', () => {
    expect(addressFor('MyBank')).toEqual({ ton: 5, npi: 0, addr: 'MyBank' });
    expect(() => addressFor('MyVeryLongBank')).toThrow(/longer than 11/);
    expect(() => addressFor('Банк')).toThrow(CodecError);
  });

  it('overrides win', () => {
    expect(addressFor('+447700900123', { ton: 0, npi: 0 })).toEqual({ ton: 0, npi: 0, addr: '447700900123' });
    expect(addressFor('12345', { ton: 3 })).toEqual({ ton: 3, npi: 1, addr: '12345' });
  });

  it('empty or over-long addresses are clear errors', () => {
    expect(() => addressFor('  ')).toThrow(/empty/);
    expect(() => addressFor('1'.repeat(21))).toThrow(/20 characters/);
  });
});
