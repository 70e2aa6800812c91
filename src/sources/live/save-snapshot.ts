import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { inputError, KnetError } from '../../model/errors.js';
import type { Cluster, ClusterMeta } from '../../model/cluster.js';
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

async function isKnetSnapshot(dir: string): Promise<boolean> {
  try {
    const meta: unknown = parse(await readFile(join(dir, SNAPSHOT_META_FILE), 'utf8'));
    const takenBy = (meta as { takenBy?: unknown } | null)?.takenBy;
    return typeof takenBy === 'string' && takenBy.startsWith('knet ');
  } catch {
    return false;
  }
}

/**
 * Decide, before anything is read from the cluster, whether DIR may be written: a new or empty
 * directory always; a snapshot knet wrote earlier only with --force; anything else never, so that
 * nothing the user had is changed or lost.
 */
export async function checkSnapshotTarget(dir: string, isForced: boolean): Promise<SnapshotTarget> {
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'new';
    throw inputError(`cannot use ${dir}: ${(err as Error).message}`, 'snapshot-target');
  }
  if (!info.isDirectory()) {
    throw inputError(`${dir} exists and is not a directory`, 'snapshot-target', ['Give a new or empty directory for the snapshot.']);
  }
  const entries = await readdir(dir);
  if (entries.length === 0) return 'empty';
  if (await isKnetSnapshot(dir)) {
    if (isForced) return 'previous-snapshot';
    throw inputError(`${dir} already holds a knet snapshot`, 'snapshot-exists', ['Add --force to replace it, or give another directory.']);
  }
  throw inputError(`${dir} is not empty and is not a knet snapshot: knet will not write into it`, 'snapshot-target', [
    'Give a new or empty directory. (--force only replaces a snapshot knet wrote, never other files.)',
  ]);
}

export interface SavedFile {
  file: string;
  kind: string;
  count: number;
}

function renderList(items: unknown[]): string {
  // The shape of `kubectl get … -o yaml`; lineWidth 0 keeps long strings (Corefile, annotations) unfolded.
  return stringify({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }, { lineWidth: 0 });
}

function renderMeta(meta: ClusterMeta & { namespace?: string }): string {
  const header = '# What the API does not hold, written by `knet snapshot save`.\n';
  return header + stringify(Object.fromEntries(Object.entries(meta).filter(([, v]) => v !== undefined)), { lineWidth: 0 });
}

/**
 * Write the snapshot layout of the CLI contract: one `kind: List` YAML file per kind and
 * knet-snapshot.yaml. Files go to a fresh sibling directory first, which then takes DIR's place,
 * so an interrupted save never leaves half a snapshot where a whole one was.
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

/** Writes more files (node state) into the snapshot being made, given its directory; returns what it wrote. */
export type WriteMore = (dir: string) => Promise<SavedFile[]>;

async function writeSnapshotFiles(dir: string, target: SnapshotTarget, cluster: Cluster, meta: ClusterMeta & { namespace?: string }, writeMore?: WriteMore): Promise<SavedFile[]> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const staging = join(parent, `.${basename(dir)}.knet-saving-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  const saved: SavedFile[] = [];
  try {
    for (const { collection, file, kind } of SNAPSHOT_FILES) {
      const items = cluster[collection] as unknown[];
      await writeFile(join(staging, file), renderList(items));
      saved.push({ file, kind, count: items.length });
    }
    if (writeMore) saved.push(...(await writeMore(staging)));
    await writeFile(join(staging, SNAPSHOT_META_FILE), renderMeta(meta));
    if (target === 'previous-snapshot') {
      const old = join(parent, `.${basename(dir)}.knet-replaced-${process.pid}`);
      await rename(dir, old);
      await rename(staging, dir);
      await rm(old, { recursive: true, force: true });
    } else {
      if (target === 'empty') await rmdir(dir);
      await rename(staging, dir);
    }
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  return saved;
}
