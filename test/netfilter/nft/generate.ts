// kube-proxy-shaped nftables scripts for tests: the generator lives with the benchmarks, which use it too.
export { baseRules, generateKubeProxyNft, orderForNft, type GenEndpoint, type GenService } from '../../../bench/gen/kube-proxy-nft.mjs';
