export * from './common.ts';
export * from './errors.ts';
export * from './flows.ts';
export * from './identity.ts';
export * from './ids.ts';
export * from './licensing.ts';
export { default as metricsCatalog } from './metrics-catalog.json' with { type: 'json' };
export * from './platform.ts';
