import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { RequestLogger } from '../src/plugins/request-logger.ts';

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const root = pino({ level, base: { service: 'atrium' } }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { root, lines };
}

describe('RequestLogger', () => {
  it('writes what a pino child would, with the bindings set before and after the first line', () => {
    const { root, lines } = capture('info');
    const lazy = RequestLogger.factory(root, { request_id: 'r1' }, {}) as unknown as RequestLogger;
    const eager = root.child({ request_id: 'r1' });
    lazy.setBindings({ tenant_id: 't1' });
    eager.setBindings({ tenant_id: 't1' });
    lazy.info({ n: 1 }, 'first');
    eager.info({ n: 1 }, 'first');
    lazy.setBindings({ user_id: 'u1' });
    eager.setBindings({ user_id: 'u1' });
    lazy.warn('second %s', 'line');
    eager.warn('second %s', 'line');
    const strip = ({ time: _time, ...rest }: Record<string, unknown>) => rest;
    expect(lines.map(strip)).toEqual([
      expect.objectContaining({ request_id: 'r1', tenant_id: 't1', n: 1, msg: 'first', service: 'atrium' }),
      expect.objectContaining({ request_id: 'r1', tenant_id: 't1', n: 1, msg: 'first' }),
      expect.objectContaining({ request_id: 'r1', tenant_id: 't1', user_id: 'u1', msg: 'second line' }),
      expect.objectContaining({ request_id: 'r1', tenant_id: 't1', user_id: 'u1', msg: 'second line' }),
    ]);
    expect(strip(lines[0] as Record<string, unknown>)).toEqual(strip(lines[1] as Record<string, unknown>));
    expect(strip(lines[2] as Record<string, unknown>)).toEqual(strip(lines[3] as Record<string, unknown>));
  });

  it('writes nothing below the root level, and its children and bindings carry the request', () => {
    const { root, lines } = capture('warn');
    const lazy = RequestLogger.factory(root, { request_id: 'r2' }, {}) as unknown as RequestLogger;
    lazy.info('dropped');
    lazy.debug('dropped');
    expect(lines).toEqual([]);
    expect(lazy.isLevelEnabled('info')).toBe(false);
    expect(lazy.level).toBe('warn');
    lazy.setBindings({ tenant_id: 't2' });
    expect(lazy.bindings()).toMatchObject({ request_id: 'r2', tenant_id: 't2', service: 'atrium' });
    lazy.child({ part: 'x' }).error('kept');
    expect(lines).toEqual([expect.objectContaining({ request_id: 'r2', tenant_id: 't2', part: 'x', msg: 'kept' })]);
  });

  it("honours a route's own level", () => {
    const { root, lines } = capture('warn');
    const routeLogger = RequestLogger.factory(root, { request_id: 'r3' }, { level: 'debug' });
    routeLogger.debug('kept');
    expect(lines).toEqual([expect.objectContaining({ request_id: 'r3', msg: 'kept' })]);
  });
});
