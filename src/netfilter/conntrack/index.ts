export { detachEntry, USUAL_CONNTRACK_LINE, parseConntrackLine, parseConntrackText, parseConntrackWords, type ConntrackEntry, type ConntrackFlag, type ConntrackTuple, type ParsedLine } from './parse.js';
export { scanConntrack, type ConntrackFilter, type ConntrackInput, type ConntrackScan, type ConntrackScanOptions } from './scan.js';
export { buildServiceEndpointIndex, findStaleEntry, frontendKey, isStale, type ServiceEndpointIndex, type ServicePortEndpoints } from './stale.js';
