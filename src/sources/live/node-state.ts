import { environmentError } from '../../model/errors.js';
import type { NodeStateKind, NodeStateSource } from '../node-state.js';

/**
 * Node state on a live cluster is read through a debug pod on each node; this build does not start
 * debug pods yet, so every read says so (exit 3) instead of pretending the node has no rules.
 */
export class UnavailableNodeState implements NodeStateSource {
  constructor(private readonly contextName: string) {}

  private refuse(): Promise<never> {
    return Promise.reject(
      environmentError(`reading node state (iptables, nftables, IPVS, conntrack, routes) from context "${this.contextName}" needs a debug pod, which this build cannot start`, 'node-state-unavailable', [
        'Capture it on the node (e.g. iptables-save > nodes/NODE/iptables-save.txt) and use --snapshot DIR.',
      ]),
    );
  }

  listNodes(): Promise<string[]> {
    return this.refuse();
  }

  listKinds(_node: string): Promise<NodeStateKind[]> {
    return this.refuse();
  }

  read(_node: string, _kind: NodeStateKind): Promise<string | null> {
    return this.refuse();
  }

  lines(_node: string, _kind: NodeStateKind): Promise<AsyncIterable<string> | null> {
    return this.refuse();
  }

  describe(node: string, kind: NodeStateKind): string {
    return `${kind} of node ${node} (debug pod)`;
  }
}
