import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { Flags } from '@oclif/core';
import { KnetCommand, type RenderContext } from '../cli/base.js';
import { runChecks } from '../cli/check-run.js';
import { clusterFlags, dnsServerFlag } from '../cli/flags.js';
import { EXIT, inputError, type ExitCode } from '../model/errors.js';
import { fileErrorReason, writeErrorReason } from '../sources/files.js';
import { renderChecks } from '../render/checks.js';
import { renderJunit } from '../render/junit.js';
import { openCluster } from '../sources/cluster.js';
import { CheckFileError, parseChecks, summarizeChecks, type CheckReport } from '../trace/checks.js';
import { paragraphs } from '../cli/prose.js';

export default class Check extends KnetCommand<typeof Check, CheckReport> {
  static override summary = 'Run smoke checks written as data (connect, dns, endpoints, rules) and report pass or fail';

  static override description = paragraphs(`Reads a checks file (default knet-checks.yaml) and judges each check, live or on a snapshot:
connect (from, to, port: expect allow|deny, judged as knet trace judges it: allow passes when the
connection is delivered, deny when no endpoint takes it, and one that only some endpoints take passes
neither), dns (name, from: expect resolves|nxdomain), endpoints (service: expect healthy,
at least one ready endpoint and no error finding), rules (node: expect in-sync, no error finding from
rules diff). A malformed file is exit 2 with its line; any failed check is exit 1. --junit writes JUnit
XML (one testcase per check) for CI systems.

dns checks (and connect checks to a DNS name) ask real DNS servers: live, each ready kube-dns pod through
a port-forward; or each --server. An answer that is not what the API implies fails the check, whatever it
expects. On a snapshot without --server, names are judged from the API's records alone.`);

  static override examples = [
    { description: 'The demo checks, on the demo snapshot', command: '<%= config.bin %> check -f examples/knet-checks.yaml --snapshot examples/demo' },
    { description: 'The same, asking a DNS server that serves the snapshot\'s records (knet dns --zones)', command: '<%= config.bin %> check -f examples/knet-checks.yaml --snapshot examples/demo --server 127.0.0.1:5353' },
    { description: 'In CI, with a JUnit report', command: '<%= config.bin %> check -f knet-checks.yaml --junit reports/knet.xml' },
  ];

  static override flags = {
    ...clusterFlags,
    file: Flags.string({ char: 'f', description: 'The checks file.', default: 'knet-checks.yaml' }),
    junit: Flags.string({ description: 'Also write the results as JUnit XML to this file.' }),
    ...dnsServerFlag,
  };

  protected async execute(): Promise<CheckReport> {
    const { flags } = this;
    let text: string;
    try {
      text = await readFile(flags.file, 'utf8');
    } catch (err) {
      throw inputError(`cannot read checks file ${flags.file}: ${fileErrorReason(err)}`, 'file-unreadable', ['Give it with -f FILE; see `knet check --help` for its form.']);
    }
    let specs;
    try {
      specs = parseChecks(text);
    } catch (err) {
      if (err instanceof CheckFileError) throw inputError(`${flags.file}:${err.line}: ${err.message}`, 'checks-malformed', ['Each check is `- name: …`, one of connect|dns|endpoints|rules: {…}, and expect: … (see `knet check --help`).']);
      throw err;
    }
    const opened = await openCluster({ ...flags, allNamespaces: true });
    const started = new Date();
    const results = await runChecks(opened, flags, specs, () => performance.now(), flags.server ?? []);
    const report = summarizeChecks(flags.file, opened.origin, results);
    if (flags.junit !== undefined) {
      try {
        await writeFile(flags.junit, renderJunit(report, { timestamp: started.toISOString().replace(/\.\d+Z$/, ''), hostname: hostname() }));
      } catch (err) {
        throw inputError(`cannot write --junit ${flags.junit}: ${writeErrorReason(err)}`, 'file-unwritable', ['Check that its directory exists and is writable.']);
      }
    }
    return report;
  }

  protected renderText(result: CheckReport, ctx: RenderContext): string {
    return renderChecks(result, ctx.style, ctx.isWide);
  }

  protected override exitCodeOf(result: CheckReport): ExitCode {
    return result.failures.length > 0 ? EXIT.problem : EXIT.ok;
  }
}
