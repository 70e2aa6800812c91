import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { yamlPieces } from '../../render/yaml.js';
import { inputError, KnetError } from '../../model/errors.js';
import type { Cluster, ClusterMeta } from '../../model/cluster.js';
import { NODE_STATE_FILES } from '../node-state.js';
import { fileErrorReason } from '../files.js';
import { SNAPSHOT_META_FILE } from '../snapshot.js';

/** One file per kind, as `kubectl get KIND -A -o yaml` would write it. */
export const SNAPSHOT_FILES: { collection: keyof Omit<Cluster, 'meta'>; file: string; kind: string }[] = [
  { collection: 'namespaces', file: 'namespaces.yaml', kind: 'Namespace' },
  { collection: 'nodes', file: 'nodes.yaml', kind: 'Node' },
  { collection: 'pods', file: 'pods.yaml', kind: 'Pod' },
  { collection: 'services', file: 'services.yaml', kind: 'Service' },
  { collection: 'endpoints', file: 'endpoints.yaml', kind: 'Endpoints' },
  { collection: 'endpointSlices', file: 'endpointslices.yaml', kind: 'EndpointSlice' },
  { collection: 'networkPolicies', file: 'networkpolicies.yaml', kind: 'NetworkPolicy' },
  { collection: 'adminNetworkPolicies', file: 'adminnetworkpolicies.yaml', kind: 'AdminNetworkPolicy' },
  { collection: 'baselineAdminNetworkPolicies', file: 'baselineadminnetworkpolicies.yaml', kind: 'BaselineAdminNetworkPolicy' },
  { collection: 'configMaps', file: 'configmaps.yaml', kind: 'ConfigMap' },
];

/** What is at the target before saving: nothing, an empty directory, or a snapshot knet wrote. */
export type SnapshotTarget = 'new' | 'empty' | 'previous-snapshot';

/** The key of knet-snapshot.yaml that lists, relative to DIR, every file knet wrote there. */
export const MANIFEST_KEY = 'files';

/** Whether a path is one knet writes in a snapshot: a file of SNAPSHOT_FILES, or nodes/<node>/<state file>. */
export function isKnetLayoutPath(path: string): boolean {
  if (path === SNAPSHOT_META_FILE || SNAPSHOT_FILES.some((f) => f.file === path)) return true;
  const parts = path.split('/');
  return parts.length === 3 && parts[0] === 'nodes' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(parts[1]!) && (Object.values(NODE_STATE_FILES) as string[]).includes(parts[2]!);
}

/**
 * The files knet wrote in DIR, from the manifest of its knet-snapshot.yaml; a snapshot from before the
 * manifest holds the files of SNAPSHOT_FILES. Entries outside knet's layout are not believed (a
 * hand-written knet-snapshot.yaml in a home directory must not make `.bashrc` knet's to delete).
 * Null when DIR holds no snapshot knet wrote.
 */
async function knetManifest(dir: string): Promise<Set<string> | null> {
  let meta: unknown;
  try {
    meta = parse(await readFile(join(dir, SNAPSHOT_META_FILE), 'utf8'));
  } catch {
    return null;
  }
  const record = (meta ?? {}) as { takenBy?: unknown; [MANIFEST_KEY]?: unknown };
  if (typeof record.takenBy !== 'string' || !record.takenBy.startsWith('knet ')) return null;
  const listed = Array.isArray(record[MANIFEST_KEY]) ? (record[MANIFEST_KEY] as unknown[]) : SNAPSHOT_FILES.map((f) => f.file);
  const files = new Set<string>([SNAPSHOT_META_FILE]);
  for (const f of listed) if (typeof f === 'string' && isKnetLayoutPath(f)) files.add(f);
  return files;
}

/** Every file under DIR, relative to it, with / as separator (directories are not listed). */
async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path);
      else out.push(path);
    }
  }
  await walk('');
  return out.sort();
}

/**
 * Decide, before anything is read from the cluster, whether DIR may be written: a new or empty
 * directory always; a snapshot knet wrote earlier only with --force, and only when every file in it
 * is one knet wrote (its manifest): anything else — node dumps added by hand, notes — would be lost
 * or mixed into the new snapshot, so knet refuses and names them.
 */
export async function checkSnapshotTarget(dir: string, isForced: boolean): Promise<SnapshotTarget> {
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'new';
    throw inputError(`cannot use ${dir}: ${fileErrorReason(err)}`, 'snapshot-target', ['Give a new or empty directory for the snapshot.']);
  }
  if (!info.isDirectory()) {
    throw inputError(`${dir} exists and is not a directory`, 'snapshot-target', ['Give a new or empty directory for the snapshot.']);
  }
  const entries = await readdir(dir);
  if (entries.length === 0) return 'empty';
  const manifest = await knetManifest(dir);
  if (manifest === null) {
    throw inputError(`${dir} is not empty and is not a knet snapshot: knet will not write into it`, 'snapshot-target', [
      'Give a new or empty directory. (--force only replaces a snapshot knet wrote, never other files.)',
    ]);
  }
  if (!isForced) throw inputError(`${dir} already holds a knet snapshot`, 'snapshot-exists', ['Add --force to replace it, or give another directory.']);
  const foreign = (await listTree(dir)).filter((f) => !manifest.has(f) && !isTemporary(f));
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 20);
    throw inputError(`${dir} holds ${foreign.length} file${foreign.length === 1 ? '' : 's'} knet did not write, which replacing the snapshot would lose: ${shown.join(', ')}${foreign.length > shown.length ? ', …' : ''}`, 'snapshot-foreign-files', [
      'Move them out of the snapshot (or save to another directory); --force replaces only the files knet wrote, listed in knet-snapshot.yaml.',
    ]);
  }
  return 'previous-snapshot';
}

const TEMP_MARK = '.knet-saving-';

function isTemporary(path: string): boolean {
  return path.includes(TEMP_MARK);
}

export interface SavedFile {
  file: string;
  kind: string;
  count: number;
}


export function renderList(items: unknown[]): string {
  return renderListPieces(items).join('');
}

/**
 * The text of one kind's file in pieces of about 64 KB, written as they are (no string of a whole
 * pods.yaml). The shape of `kubectl get … -o yaml`; lineWidth 0 keeps long strings (Corefile,
 * annotations) unfolded. Laid out by knet (the yaml package's text, 4.6x faster on 10,000 pods),
 * else by the package.
 */
function renderListPieces(items: unknown[]): string[] {
  const list = { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
  return yamlPieces(list);
}

function renderMeta(meta: ClusterMeta & { namespace?: string }, files: string[]): string {
  const header = '# What the API does not hold, written by `knet snapshot save`.\n# `files` lists what knet wrote here: `snapshot save --force` replaces those and refuses to touch anything else.\n';
  return header + stringify({ ...Object.fromEntries(Object.entries(meta).filter(([, v]) => v !== undefined)), [MANIFEST_KEY]: files }, { lineWidth: 0 });
}

/** Writes more files (node state) into the snapshot being made, given its directory; returns what it wrote. */
export type WriteMore = (dir: string) => Promise<SavedFile[]>;

/**
 * Write the snapshot layout of the CLI contract: one `kind: List` YAML file per kind, what `writeMore`
 * adds (node state), and knet-snapshot.yaml with the manifest of every file written. Everything is
 * written first into a temporary sibling directory. A new DIR is that directory renamed into place. A
 * previous snapshot is replaced file by file once all are written: each new file renamed over the old
 * one (the metadata last), then the old files knet wrote and did not write again removed. A save that
 * fails before then leaves the old snapshot whole, and files knet did not write are never touched
 * (checkSnapshotTarget refused to go on if there were any).
 */
export async function writeSnapshot(given: string, target: SnapshotTarget, cluster: Cluster, meta: ClusterMeta & { namespace?: string }, writeMore?: WriteMore): Promise<SavedFile[]> {
  try {
    return await writeSnapshotFiles(resolve(given), target, cluster, meta, writeMore);
  } catch (err) {
    if (err instanceof KnetError) throw err;
    throw inputError(`cannot write the snapshot to ${given}: ${(err as Error).message}`, 'snapshot-write-failed', [
      'Check that the directory and its parent are writable and the disk has room.',
    ]);
  }
}

async function writeSnapshotFiles(dir: string, target: SnapshotTarget, cluster: Cluster, meta: ClusterMeta & { namespace?: string }, writeMore?: WriteMore): Promise<SavedFile[]> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const staging = join(parent, `.${basename(dir)}${TEMP_MARK}${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  const saved: SavedFile[] = [];
  try {
    for (const { collection, file, kind } of SNAPSHOT_FILES) {
      const items = cluster[collection] as unknown[];
      await writeFile(join(staging, file), renderListPieces(items));
      saved.push({ file, kind, count: items.length });
    }
    if (writeMore) saved.push(...(await writeMore(staging)));
    const written = await listTree(staging);
    await writeFile(join(staging, SNAPSHOT_META_FILE), renderMeta(meta, [...written, SNAPSHOT_META_FILE]));
    if (target === 'previous-snapshot') {
      await replaceFiles(staging, dir, written);
    } else {
      if (target === 'empty') await rmdir(dir);
      await rename(staging, dir);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return saved;
}

async function replaceFiles(staging: string, dir: string, written: string[]): Promise<void> {
  const before = (await knetManifest(dir)) ?? new Set<string>();
  for (const f of written) {
    await mkdir(dirname(join(dir, f)), { recursive: true });
    await rename(join(staging, f), join(dir, f));
  }
  // The metadata (with the new manifest) goes last: until then the old one describes the directory.
  await rename(join(staging, SNAPSHOT_META_FILE), join(dir, SNAPSHOT_META_FILE));
  const now = new Set([...written, SNAPSHOT_META_FILE]);
  for (const old of before) {
    if (now.has(old)) continue;
    await rm(join(dir, old), { force: true });
    // nodes/<node>/ of a node no longer saved, once empty.
    if (old.startsWith('nodes/')) await rmdir(join(dir, dirname(old))).catch(() => undefined);
  }
}
