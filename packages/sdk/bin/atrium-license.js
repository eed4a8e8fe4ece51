#!/usr/bin/env node
// In this repository the CLI runs from its TypeScript sources (Node.js strips the types). The published package
// has no src/ (and Node does not strip types under node_modules): there it runs the build, dist/. See README.md.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli.ts', import.meta.url);
const fromSource = existsSync(source) && !source.pathname.includes('/node_modules/');
await import(fromSource ? source.href : new URL('../dist/cli.js', import.meta.url).href);
