#!/usr/bin/env node
// The SDK ships TypeScript sources (Node 24 strips types); see packages/sdk/README.md about publishing.
await import('../src/cli.ts');
