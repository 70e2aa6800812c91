#!/usr/bin/env node
// The built CLI (npm run build); dist/run.js bundles oclif with knet's start-up code.
await import('../dist/run.js');
