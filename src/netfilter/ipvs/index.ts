export { parseIpvsadm, splitAddressPort, IpvsParseError, type IpvsTable, type VirtualServer, type RealServer, type IpvsProtocol, type IpvsForward } from './parse.js';
export { simulateIpvs, findVirtualServer, type IpvsState } from './simulate.js';
export { findEmptyVirtualServer } from './view.js';
