import { Flags } from '@oclif/core';

/** Output flags every command has. */
export const outputFlags = {
  json: Flags.boolean({ description: 'Print exactly one JSON document on stdout (same as -o json).', helpGroup: 'OUTPUT' }),
  output: Flags.option({
    char: 'o',
    options: ['table', 'wide', 'json', 'yaml'] as const,
    description: 'Output format.',
    helpGroup: 'OUTPUT',
  })(),
  'no-color': Flags.boolean({ description: 'No colour (also: NO_COLOR, or stdout not a terminal).', helpGroup: 'OUTPUT' }),
  debug: Flags.boolean({ description: 'Show stack traces and internal detail on errors (also: DEBUG=knet).', helpGroup: 'OUTPUT', hidden: false }),
};

/** Flags of every command that reads cluster state, live or from a snapshot. */
export const clusterFlags = {
  namespace: Flags.string({
    char: 'n',
    description: "Namespace for names given without one (default: the context's namespace, else default).",
    helpGroup: 'CLUSTER',
  }),
  snapshot: Flags.string({
    description: 'Read cluster state from a snapshot file or directory instead of the live cluster.',
    helpGroup: 'CLUSTER',
  }),
  kubeconfig: Flags.string({ description: 'Path to the kubeconfig file (KUBECONFIG is honoured).', helpGroup: 'CLUSTER' }),
  context: Flags.string({ description: 'The kubeconfig context to use.', helpGroup: 'CLUSTER' }),
  'cluster-domain': Flags.string({
    description: 'Cluster DNS domain (default: from the snapshot metadata, else cluster.local).',
    helpGroup: 'CLUSTER',
  }),
  'request-timeout': Flags.string({
    description: 'Time limit for each API request, as kubectl (e.g. 30s, 1m).',
    default: '30s',
    helpGroup: 'CLUSTER',
  }),
};

export const allNamespacesFlag = {
  'all-namespaces': Flags.boolean({ char: 'A', description: 'All namespaces.', helpGroup: 'CLUSTER' }),
};
