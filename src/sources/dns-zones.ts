// Writes the records the API implies as zone files, with a bind9 configuration that serves them, so that
// a DNS server answering exactly what the API says can be started anywhere (`named -g -c DIR/named.conf`).
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ZoneFile } from '../dns/zone.js';
import { inputError } from '../model/errors.js';
import { writeErrorReason } from './files.js';

export interface WrittenZones {
  zones: { origin: string; file: string; records: number }[];
  config: string;
  server: string;
}

export async function writeZones(dirIn: string, zones: ZoneFile[], o: { port: number }): Promise<WrittenZones> {
  const dir = resolve(dirIn);
  try {
    await mkdir(dir, { recursive: true });
    const written: WrittenZones['zones'] = [];
    for (const z of zones) {
      const file = join(dir, `db.${z.origin}`);
      await writeFile(file, z.text);
      written.push({ origin: z.origin, file, records: z.text.split('\n').filter((l) => / IN /.test(l) && !/ IN (SOA|NS) /.test(l)).length });
    }
    // A root zone makes every other name NXDOMAIN, as a cluster DNS without an upstream would say.
    const root = join(dir, 'db.root');
    await writeFile(root, '$TTL 30\n. IN SOA ns.root. hostmaster.root. 1 7200 1800 86400 30\n. IN NS ns.root.\nns.root. IN A 127.0.0.1\n');
    const config = join(dir, 'named.conf');
    await writeFile(
      config,
      `// Serves the records the Kubernetes API implies, written by knet dns --zones. Run: named -g -c ${config}
options {
  directory "${dir}";
  pid-file "${join(dir, 'named.pid')}";
  session-keyfile "${join(dir, 'session.key')}";
  managed-keys-directory "${dir}";
  listen-on port ${o.port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  allow-query { any; };
};
controls { };
${[...written.map((z) => `zone "${z.origin}" { type primary; file "${z.file}"; };`), `zone "." { type primary; file "${root}"; };`].join('\n')}
`,
    );
    return { zones: written, config, server: `127.0.0.1:${o.port}` };
  } catch (err) {
    throw inputError(`cannot write zone files to ${dir}: ${writeErrorReason(err)}`, 'zones-unwritable', ['Give a directory you can write to with --zones DIR.']);
  }
}
