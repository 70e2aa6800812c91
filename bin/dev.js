#!/usr/bin/env node
// Rebuilds from src/ and runs, for working on knet itself.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url))], { stdio: 'inherit' });
const { execute } = await import('@oclif/core');
await execute({ development: false, dir: import.meta.url });
