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

/** How node state is read from a live cluster: debug pods (the default), a DaemonSet, or this machine. */
export const debugPodFlags = {
  'debug-namespace': Flags.string({ description: "Namespace for knet's debug pods (default: the context's namespace, else default).", helpGroup: 'NODE STATE' }),
  image: Flags.string({ description: 'Debug pod image with iptables, nft, ipvsadm, ipset, conntrack and ip (also: KNET_DEBUG_IMAGE; default: a pinned nicolaka/netshoot).', helpGroup: 'NODE STATE' }),
  privileged: Flags.boolean({ description: 'Run the debug pod privileged instead of with NET_ADMIN and NET_RAW only.', helpGroup: 'NODE STATE' }),
  'pod-timeout': Flags.string({ description: 'How long a debug pod may take to start, image pull included (e.g. 2m).', default: '2m', helpGroup: 'NODE STATE' }),
  'exec-timeout': Flags.string({ description: 'How long a command in a debug pod may stay silent before knet gives up (e.g. 1m).', default: '1m', helpGroup: 'NODE STATE' }),
  daemonset: Flags.boolean({ description: 'Read the nodes through one short-lived DaemonSet instead of a pod per node (for fleets).', helpGroup: 'NODE STATE', exclusive: ['local'] }),
  'daemonset-deadline': Flags.string({
    description: 'With --daemonset: how long the DaemonSet may live (e.g. 10m; default 15m, a debug pod\'s activeDeadlineSeconds); past it knet deletes it, names the nodes not read, exits 3.',
    helpGroup: 'NODE STATE',
    dependsOn: ['daemonset'],
  }),
  local: Flags.boolean({ description: 'Read node state on the machine knet runs on (run on the node itself), not through a pod.', helpGroup: 'NODE STATE' }),
};

/**
 * `--server` as `knet dns` has it: the DNS servers a DNS name is asked of. Also `--dns-server`, which says
 * what it is where the command is not about DNS (trace, check).
 */
export const dnsServerFlag = {
  server: Flags.string({
    char: 's',
    aliases: ['dns-server'],
    multiple: true,
    description: 'A DNS server to ask for DNS names, IP[:PORT] (repeatable: each is a replica; also --dns-server). Default, live: every ready kube-dns endpoint, through a port-forward; on a snapshot: none, names are judged from the API\'s records.',
    helpGroup: 'DNS',
  }),
};
