export interface GenEndpoint {
  ip: string;
  isLocal?: boolean;
}

export interface GenService {
  namespace: string;
  name: string;
  clusterIP: string;
  protocol?: 'tcp' | 'udp';
  port: number;
  portName: string;
  targetPort: number;
  nodePort?: number;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  affinity?: boolean;
  endpoints: GenEndpoint[];
}

export interface GenerateNftOptions {
  services: GenService[];
  podCIDR: string;
  serviceCIDR: string;
  nodeIPs: string[];
}

/** The fixed part: table, sets, maps, base chains, helper chains (as kube-proxy's baseRules). */
export function baseRules(options: { serviceCIDR: string; nodeIPs: string[] }): string[];
/** kube-proxy's nftables rules for `services`, as the `nft -f` script (knftables transaction) it writes. */
export function generateKubeProxyNft(options: GenerateNftOptions): string;
/** knftables dumps list chains after the rules that jump to them; `nft -f` wants them first. */
export function orderForNft(script: string): string;
