// Environment variables that change how oclif renders help (width, colour). While any is set, help
// is rendered by oclif at run time, not taken from dist/help.json (rendered at build time without them).
export function isHelpEnv(name) {
  return name.startsWith('OCLIF_') || name === 'FORCE_COLOR' || name === 'NO_COLOR' || name === 'KNET_NO_HELP_CACHE';
}
