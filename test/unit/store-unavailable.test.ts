import { connectTimeoutMs } from '../../src/common/postgres/migrations.js';
import { isStoreUnavailable } from '../../src/storage/unavailable.js';

describe('a store that cannot serve now', () => {
  it('is told from other failures by the error alone', () => {
    const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    for (const e of [coded('ECONNREFUSED'), coded('ECONNRESET'), coded('ETIMEDOUT'), coded('57P01'), coded('57P03'), coded('53300'), coded('53100'), coded('25P03'), coded('25006'), coded('55P03'), coded('57014'), coded('40001'), coded('40P01'), coded('58030'), coded('08006'), coded('08P01'),
      new Error('Connection terminated unexpectedly'), new Error('timeout exceeded when trying to connect'), Object.assign(new Error('down'), { type: 'unavailable' })]) {
      expect([e.message, isStoreUnavailable(e)]).toEqual([e.message, true]);
    }
    for (const e of [new Error('boom'), coded('23505'), coded('42P01'), coded('22P02'), coded('25001'), coded('55000'), coded('0800'), coded('5301234'), new TypeError('x is undefined'), 'ECONNREFUSED', null, { code: 'ECONNREFUSED' }]) {
      expect(isStoreUnavailable(e)).toBe(false);
    }
  });

  it('is waited for as long as the URL\'s connect_timeout says (libpq: seconds, at least 2, 0 for ever), else 10 s', () => {
    const at = (q: string) => connectTimeoutMs(`postgres://u@h:5432/db${q}`);
    expect([at(''), at('?connect_timeout=5'), at('?connect_timeout=1'), at('?connect_timeout=0'), at('?sslmode=disable&connect_timeout=30')]).toEqual([10_000, 5_000, 2_000, 0, 30_000]);
    expect([at('?connect_timeout=abc'), at('?connect_timeout=-3'), connectTimeoutMs('not a url')]).toEqual([10_000, 10_000, 10_000]);
  });
});
