import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { Cluster as KubeCluster, Context as KubeContext, KubeConfig, User as KubeUser } from '@kubernetes/client-node';
import type * as ClientNodeModule from '@kubernetes/client-node';
import { parseDocument } from 'yaml';
import { closest, environmentError, inputError } from '../../model/errors.js';
import { fileErrorReason } from '../files.js';

/** The kubeconfig as kubectl resolves it for one run: which context, which server, which namespace. */
export interface ResolvedKubeConfig {
  kubeConfig: KubeConfig;
  contextName: string;
  cluster: KubeCluster;
  user: KubeUser | undefined;
  /** The context's namespace, if it sets one. */
  contextNamespace: string | undefined;
  /** The files read, in kubectl's precedence order, for messages. */
  files: string[];
}

export interface KubeConfigOptions {
  kubeconfig?: string;
  context?: string;
}

type ClientNode = typeof ClientNodeModule;

async function parseKubeConfigFile(client: ClientNode, file: string): Promise<KubeConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw inputError(`kubeconfig ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read: ${fileErrorReason(err)}`}`, 'kubeconfig-unreadable', [
      'Give an existing file with --kubeconfig PATH, or fix KUBECONFIG.',
    ]);
  }
  // Parse once with knet's YAML reader first, so a syntax error names the line.
  const doc = parseDocument(text);
  const problem = doc.errors[0];
  if (problem) {
    const line = problem.linePos?.[0].line;
    throw inputError(`kubeconfig ${file}${line ? `:${line}` : ''} is not valid YAML: ${problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:$/, '')}`, 'kubeconfig-malformed', [
      'Fix the file, or point --kubeconfig at another one.',
    ]);
  }
  const value: unknown = doc.toJS();
  if (value !== null && value !== undefined && (typeof value !== 'object' || Array.isArray(value))) {
    throw inputError(`kubeconfig ${file} is not a kubeconfig (a YAML mapping with clusters, users and contexts)`, 'kubeconfig-malformed');
  }
  const kc = new client.KubeConfig();
  try {
    kc.loadFromString(value === null || value === undefined ? '{}' : text);
  } catch (err) {
    throw inputError(`kubeconfig ${file} is not valid: ${(err as Error).message}`, 'kubeconfig-malformed', [
      'Each cluster needs a name and a server, each context a name and a cluster.',
    ]);
  }
  // As kubectl does, paths inside a kubeconfig (certificate-authority, client-key…) are relative to the file.
  kc.makePathsAbsolute(dirname(file));
  return kc;
}

/**
 * Which files kubectl reads: --kubeconfig alone; else every existing file in KUBECONFIG (missing
 * ones are skipped, as kubectl skips them); else ~/.kube/config.
 */
function kubeConfigFiles(options: KubeConfigOptions): { files: string[]; explicit: boolean } {
  if (options.kubeconfig !== undefined && options.kubeconfig !== '') return { files: [options.kubeconfig], explicit: true };
  const env = process.env.KUBECONFIG;
  if (env !== undefined && env !== '') {
    const listed = env.split(delimiter).filter((f) => f !== '');
    return { files: [...new Set(listed)].filter((f) => existsSync(f)), explicit: false };
  }
  const home = process.env.HOME ?? homedir();
  const file = join(home, '.kube', 'config');
  return { files: existsSync(file) ? [file] : [], explicit: false };
}

/**
 * Merge kubeconfig files as kubectl does: the first file that sets current-context wins, and for
 * clusters, users and contexts of the same name the first definition wins (client-node's own merge
 * lets later files override and throws on duplicate names).
 */
function mergeKubeConfigs(client: ClientNode, configs: KubeConfig[]): KubeConfig {
  const pick = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const list of lists) for (const item of list) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  const merged = new client.KubeConfig();
  merged.loadFromOptions({
    clusters: pick(configs.map((c) => c.getClusters())),
    users: pick(configs.map((c) => c.getUsers())),
    contexts: pick(configs.map((c) => c.getContexts())),
    currentContext: configs.map((c) => c.getCurrentContext()).find((name) => typeof name === 'string' && name !== '') ?? '',
  });
  return merged;
}

export async function loadKubeConfig(options: KubeConfigOptions): Promise<ResolvedKubeConfig> {
  // client-node costs half a second to import: only the live path pays for it.
  const client = await import('@kubernetes/client-node');
  const { files } = kubeConfigFiles(options);
  let kubeConfig: KubeConfig;
  if (files.length === 0) {
    if (process.env.KUBERNETES_SERVICE_HOST && options.context === undefined) {
      // Running inside a pod with no kubeconfig: the service account, as kubectl does.
      kubeConfig = new client.KubeConfig();
      kubeConfig.loadFromCluster();
    } else {
      throw environmentError('no kubeconfig found (--kubeconfig, KUBECONFIG and ~/.kube/config are all absent)', 'kubeconfig-missing', [
        'Point --kubeconfig at the file kubectl uses, or set KUBECONFIG.',
        'Or read a saved snapshot with --snapshot PATH.',
      ]);
    }
  } else {
    const configs: KubeConfig[] = [];
    for (const file of files) configs.push(await parseKubeConfigFile(client, file));
    kubeConfig = configs.length === 1 ? configs[0]! : mergeKubeConfigs(client, configs);
  }

  const contexts: KubeContext[] = kubeConfig.getContexts();
  const contextName = options.context ?? kubeConfig.getCurrentContext();
  const where = files.length > 0 ? files.join(delimiter) : 'the in-cluster configuration';
  if (!contextName) {
    throw inputError(`kubeconfig ${where} has no current-context`, 'kubeconfig-no-context', [
      contexts.length > 0 ? `Choose one with --context (${contexts.map((c) => c.name).join(', ')}).` : 'Add a context to it, e.g. with `kubectl config set-context`.',
    ]);
  }
  const context = kubeConfig.getContextObject(contextName);
  if (!context) {
    const near = closest(contextName, contexts.map((c) => c.name));
    throw inputError(`context "${contextName}" is not in kubeconfig ${where}`, 'context-not-found', [
      near.length > 0 ? `Did you mean: ${near.join(', ')}?` : `Contexts there: ${contexts.map((c) => c.name).join(', ') || 'none'}.`,
    ]);
  }
  kubeConfig.setCurrentContext(contextName);
  const cluster = kubeConfig.getCluster(context.cluster);
  if (!cluster) {
    throw inputError(`context "${contextName}" names cluster "${context.cluster}", which kubeconfig ${where} does not define`, 'kubeconfig-malformed');
  }
  const user = context.user ? (kubeConfig.getUser(context.user) ?? undefined) : undefined;
  if (context.user && !user) {
    throw inputError(`context "${contextName}" names user "${context.user}", which kubeconfig ${where} does not define`, 'kubeconfig-malformed');
  }
  return { kubeConfig, contextName, cluster, user, contextNamespace: context.namespace || undefined, files };
}
