// Builders for test data: plain API objects with only what a test cares about spelled out.
import { emptyCluster, type Cluster } from '../../src/model/cluster.js';
import type { EndpointSlice, Endpoints, NetworkPolicy, Node, Pod, Service, ServicePort } from '../../src/model/k8s.js';

export function aPod(name: string, o: { ns?: string; labels?: Record<string, string>; ip?: string; ready?: boolean; phase?: string; deleting?: boolean; node?: string; ports?: { name?: string; containerPort: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[]; uid?: string } = {}): Pod {
  return {
    kind: 'Pod',
    metadata: { name, namespace: o.ns ?? 'default', uid: o.uid ?? `uid-${name}`, labels: o.labels ?? {}, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: o.node ?? 'node-1', containers: [{ name: 'main', ports: o.ports ?? [] }] },
    status: {
      phase: o.phase ?? 'Running',
      ...(o.ip ? { podIP: o.ip, podIPs: [{ ip: o.ip }] } : {}),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

export function aService(name: string, o: { ns?: string; selector?: Record<string, string>; ports?: ServicePort[]; type?: 'ClusterIP' | 'NodePort' | 'ExternalName'; headless?: boolean; publish?: boolean; externalName?: string } = {}): Service {
  return {
    kind: 'Service',
    metadata: { name, namespace: o.ns ?? 'default' },
    spec: {
      type: o.type ?? 'ClusterIP',
      clusterIP: o.headless ? 'None' : '10.96.0.100',
      ...(o.selector ? { selector: o.selector } : {}),
      ports: o.ports ?? [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
      ...(o.publish ? { publishNotReadyAddresses: true } : {}),
      ...(o.externalName ? { externalName: o.externalName } : {}),
    },
  };
}

export interface SliceEndpointSpec {
  ip: string;
  ready?: boolean | null;
  serving?: boolean | null;
  terminating?: boolean | null;
  pod?: string;
  podUid?: string;
}

export function aSlice(service: string, endpoints: SliceEndpointSpec[], o: { ns?: string; name?: string; ports?: { name?: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[]; addressType?: string } = {}): EndpointSlice {
  return {
    kind: 'EndpointSlice',
    metadata: { name: o.name ?? `${service}-abcde`, namespace: o.ns ?? 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: o.addressType ?? 'IPv4',
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: {
        ...(e.ready !== undefined ? { ready: e.ready } : { ready: true }),
        ...(e.serving !== undefined ? { serving: e.serving } : {}),
        ...(e.terminating !== undefined ? { terminating: e.terminating } : {}),
      },
      ...(e.pod ? { targetRef: { kind: 'Pod', namespace: o.ns ?? 'default', name: e.pod, ...(e.podUid ? { uid: e.podUid } : {}) } } : {}),
    })),
    ports: o.ports ?? [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

export function anEndpoints(name: string, ready: string[], notReady: string[] = [], o: { ns?: string; annotations?: Record<string, string>; ports?: { name?: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[] } = {}): Endpoints {
  return {
    kind: 'Endpoints',
    metadata: { name, namespace: o.ns ?? 'default', ...(o.annotations ? { annotations: o.annotations } : {}) },
    subsets: [{
      ...(ready.length ? { addresses: ready.map((ip) => ({ ip })) } : {}),
      ...(notReady.length ? { notReadyAddresses: notReady.map((ip) => ({ ip })) } : {}),
      ports: o.ports ?? [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }],
  };
}

export function aCluster(parts: Partial<Omit<Cluster, 'meta'>>): Cluster {
  return { ...emptyCluster(), ...parts };
}

export function aNode(name: string, o: { ip: string; podCIDR?: string }): Node {
  return {
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: { ...(o.podCIDR ? { podCIDR: o.podCIDR, podCIDRs: [o.podCIDR] } : {}) },
    status: { addresses: [{ type: 'InternalIP', address: o.ip }, { type: 'Hostname', address: name }] },
  };
}

export function aNetworkPolicy(name: string, spec: NonNullable<NetworkPolicy['spec']>, o: { ns?: string } = {}): NetworkPolicy {
  return { kind: 'NetworkPolicy', metadata: { name, namespace: o.ns ?? 'default' }, spec };
}
