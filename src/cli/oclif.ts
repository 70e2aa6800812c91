// Every `@oclif/core` import in the bundle resolves here (see scripts/build.mjs): bin/run.js has loaded
// oclif once, from a code cache, and the commands must extend that same instance. Outside the built CLI
// (for instance while the build reads the commands for the manifest) oclif comes from node_modules.
import { createRequire } from 'node:module';
import type * as Oclif from '@oclif/core';

const loaded = (globalThis as Record<symbol, unknown>)[Symbol.for('knet.oclif')];
const core = (loaded ?? createRequire(import.meta.url)('@oclif/core')) as typeof Oclif;

export const { Args, Flags, Errors } = core;
export const Command = core.Command;
// A class is a value and a type: both are re-exported.
export type Command = Oclif.Command;
