// Runs the benchmark cases in bench/cases/*.mjs. Each case measures a baseline and a subject in the
// same run, interleaved (b, s, b, s …) so that machine load affects both alike, and reports the ratio of
// their medians against the case's limits. A case may add `references`: other programs measured in the
// same interleaved runs and reported against the baseline, with no limit (what a bare program does with
// the same input, say). Usage: npm run bench [-- NAME-FILTER …] [--runs N]
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const runsFlag = argv.indexOf('--runs');
const runsOverride = runsFlag >= 0 ? Number(argv[runsFlag + 1]) : undefined;
const filters = argv.filter((a, i) => !a.startsWith('--') && (runsFlag < 0 || i !== runsFlag + 1));

const casesDir = fileURLToPath(new URL('./cases/', import.meta.url));
const cases = [];
for (const file of readdirSync(casesDir).filter((f) => f.endsWith('.mjs')).sort()) {
  const mod = await import(pathToFileURL(join(casesDir, file)).href);
  for (const c of mod.default) cases.push({ ...c, file });
}
const selected = cases.filter((c) => !filters.length || filters.some((f) => c.name.includes(f) || c.file.includes(f)));
if (!selected.length) {
  console.error(`no benchmark matches ${filters.join(', ')}; cases: ${cases.map((c) => c.name).join(', ')}`);
  process.exit(2);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

let failed = 0;
const rows = [];
for (const c of selected) {
  process.stderr.write(`• ${c.name}: ${c.target}\n`);
  if (c.skip) {
    const why = typeof c.skip === 'function' ? c.skip() : c.skip;
    if (why) {
      process.stderr.write(`  skipped: ${why}\n`);
      rows.push({ name: c.name, result: `SKIPPED (${why})` });
      continue;
    }
  }
  if (c.setup) await c.setup();
  const runs = runsOverride ?? c.runs ?? 10;
  const base = [];
  const subj = [];
  const references = (c.references ?? []).map((r) => ({ ...r, runs: [] }));
  // One untimed warm-up of each, so that the first run's cold file cache counts for none.
  await c.baseline.run();
  await c.subject.run();
  for (const r of references) await r.run();
  for (let i = 0; i < runs; i++) {
    base.push(await c.baseline.run());
    subj.push(await c.subject.run());
    for (const r of references) r.runs.push(await r.run());
  }
  const b = median(base.map((r) => r.ms));
  const s = median(subj.map((r) => r.ms));
  const ratio = s / b;
  const rss = Math.max(...subj.map((r) => r.rssMiB ?? 0));
  const baseRss = Math.max(...base.map((r) => r.rssMiB ?? 0));
  const checks = [];
  const limit = c.limit ?? {};
  if (limit.ratio !== undefined) checks.push({ ok: ratio <= limit.ratio, text: `ratio ${ratio.toFixed(2)} ≤ ${limit.ratio}` });
  if (limit.seconds !== undefined) checks.push({ ok: s / 1000 <= limit.seconds, text: `${fmt(s)} ≤ ${limit.seconds} s` });
  if (limit.rssMiB !== undefined) checks.push({ ok: rss <= limit.rssMiB, text: `peak RSS ${rss.toFixed(0)} MiB ≤ ${limit.rssMiB.toFixed(0)} MiB` });
  // Memory against the baseline's, both measured in this run.
  if (limit.rssRatio !== undefined) checks.push({ ok: rss <= limit.rssRatio * baseRss, text: `peak RSS ${rss.toFixed(0)} MiB ≤ ${limit.rssRatio}× ${baseRss.toFixed(0)} MiB (${(rss / baseRss).toFixed(2)}×)` });
  const ok = checks.every((x) => x.ok);
  if (!ok) failed++;
  const line = `  ${c.baseline.name}: ${fmt(b)}   ${c.subject.name}: ${fmt(s)}   ratio ${ratio.toFixed(2)}   peak RSS ${rss.toFixed(0)} MiB (baseline ${baseRss.toFixed(0)} MiB)   (median of ${runs}, interleaved)`;
  const referenceRows = references.map((r) => {
    const ms = median(r.runs.map((x) => x.ms));
    return { name: r.name, ms: Math.round(ms), ratio: Number((ms / b).toFixed(3)) };
  });
  const referenceLines = referenceRows.map((r) => `\n  reference ${r.name}: ${fmt(r.ms)}   ratio ${r.ratio.toFixed(2)} (no limit)`).join('');
  process.stderr.write(`${line}\n  ${checks.map((x) => `${x.ok ? 'PASS' : 'FAIL'} ${x.text}`).join('; ')}${referenceLines}${c.note ? `\n  note: ${c.note}` : ''}\n`);
  rows.push({ name: c.name, baselineMs: Math.round(b), subjectMs: Math.round(s), ratio: Number(ratio.toFixed(3)), peakRssMiB: Math.round(rss), baselinePeakRssMiB: Math.round(baseRss), ...(referenceRows.length ? { references: referenceRows } : {}), result: ok ? 'PASS' : 'FAIL', checks: checks.map((x) => x.text) });
}
console.log(JSON.stringify({ results: rows }, null, 2));
process.exit(failed ? 1 : 0);
