export interface GeneratedEndpoint {
  ip: string;
  /** Target port; defaults to the Service port's targetPort, else its port. */
  port?: number;
  /** On the node the rules are for (used by Local traffic policies). */
  isLocal?: boolean;
}

export interface GeneratedServicePort {
  name?: string;
  port: number;
  targetPort?: number;
  protocol?: 'tcp' | 'udp' | 'sctp';
  nodePort?: number;
}

export interface GeneratedService {
  namespace: string;
  name: string;
  clusterIP: string;
  ports: GeneratedServicePort[];
  endpoints?: GeneratedEndpoint[];
  externalIPs?: string[];
  loadBalancerIPs?: string[];
  loadBalancerSourceRanges?: string[];
  internalTrafficPolicy?: 'Cluster' | 'Local';
  externalTrafficPolicy?: 'Cluster' | 'Local';
  affinitySeconds?: number;
  healthCheckNodePort?: number;
}

export interface GenerateOptions {
  services: GeneratedService[];
  podCIDR?: string;
  date?: string;
}

export function servicePortName(svc: GeneratedService, port: GeneratedServicePort): string;
export function generateKubeProxyIptables(options: GenerateOptions): string;
export function benchServices(count: number, endpoints: number): GeneratedService[];
