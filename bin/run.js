#!/usr/bin/env node
// The built CLI (npm run build): oclif from its code cache, then knet's commands from dist/.
import { loadOclif } from './oclif-loader.js';

await loadOclif().execute({ dir: import.meta.url });
