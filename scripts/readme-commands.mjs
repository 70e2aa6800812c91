// Writes the README's command reference from oclif.manifest.json (run `npm run build` first), between
// the markers `<!-- commands -->` and `<!-- commandsstop -->`. `--check` exits 1 when the README is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(`${root}/oclif.manifest.json`, 'utf8'));
const readmePath = `${root}/README.md`;
const readme = readFileSync(readmePath, 'utf8');
const START = '<!-- commands -->';
const STOP = '<!-- commandsstop -->';

const bin = 'knet';
const usage = (c) => {
  const args = Object.values(c.args ?? {}).map((a) => (a.required ? a.name.toUpperCase() : `[${a.name.toUpperCase()}]`));
  return [`${bin} ${c.id.replaceAll(':', ' ')}`, ...args, '[FLAGS]'].join(' ');
};
const flagName = (f) => `${f.char ? `-${f.char}, ` : ''}--${f.name}${f.type === 'option' ? ` ${f.options ? f.options.join('|') : (f.helpValue ?? f.name.toUpperCase().replaceAll('-', '_'))}` : ''}`;
const esc = (s) => String(s ?? '').replaceAll('|', '\\|').replaceAll('\n', ' ');

const out = [START, '', 'Generated from the commands by `node scripts/readme-commands.mjs`; `knet COMMAND --help` says the same.', ''];
for (const c of Object.values(manifest.commands).sort((a, b) => a.id.localeCompare(b.id))) {
  if (c.hidden) continue;
  out.push(`<details><summary><code>${bin} ${c.id.replaceAll(':', ' ')}</code>: ${esc(c.summary)}</summary>`, '');
  out.push('```', usage(c), '```', '');
  if (c.description) out.push(c.description.replace(/\n(?!\n)/g, ' '), '');
  const args = Object.values(c.args ?? {});
  if (args.length) {
    out.push('| argument | meaning |', '| --- | --- |');
    for (const a of args) out.push(`| \`${a.name.toUpperCase()}\` | ${esc(a.description)} |`);
    out.push('');
  }
  const flags = Object.values(c.flags ?? {}).filter((f) => !f.hidden);
  if (flags.length) {
    out.push('| flag | meaning |', '| --- | --- |');
    for (const f of flags) out.push(`| \`${esc(flagName(f))}\` | ${esc(f.summary ?? f.description)}${f.default !== undefined && f.default !== false ? ` (default: ${esc(f.default)})` : ''} |`);
    out.push('');
  }
  const examples = (c.examples ?? []).map((e) => (typeof e === 'string' ? { command: e } : e));
  if (examples.length) {
    out.push('```sh');
    for (const e of examples) {
      if (e.description) out.push(`# ${e.description}`);
      out.push(e.command.replaceAll('<%= config.bin %>', bin).replaceAll('<%= command.id %>', c.id.replaceAll(':', ' ')));
    }
    out.push('```', '');
  }
  out.push('</details>', '');
}
out.push(STOP);

const start = readme.indexOf(START);
if (start < 0) throw new Error(`README.md has no ${START} marker`);
const stopAt = readme.indexOf(STOP);
const end = stopAt < 0 ? start + START.length : stopAt + STOP.length;
const next = readme.slice(0, start) + out.join('\n') + readme.slice(end);
if (process.argv.includes('--check')) {
  if (next !== readme) {
    console.error('README.md command reference is out of date: run `npm run build && node scripts/readme-commands.mjs`');
    process.exit(1);
  }
} else {
  writeFileSync(readmePath, next);
}
