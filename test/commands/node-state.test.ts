// `knet node nft|ipvs|ipset|iptables|ip6tables|routes` as a user runs them: the built CLI against a
// snapshot directory holding real captures (nft list ruleset / nft -j, ipset list, documented ipvsadm -Ln,
// ip route / ip addr) and a Service they belong to.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { examplesDir, repoRoot, runKnet, runKnetJson } from '../support/cli.js';

const fx = (part: string, name: string): string => join(repoRoot, 'test/netfilter', part, 'fixtures', name);
const demo = join(examplesDir, 'demo');

const CLUSTER = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: { name: svc4, namespace: ns4 }
  spec: { clusterIP: 172.30.0.44, ports: [{ name: p80, port: 80, protocol: TCP, targetPort: 80 }] }
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: { name: svc4-a, namespace: ns4, labels: { kubernetes.io/service-name: svc4 } }
  addressType: IPv4
  endpoints: [{ addresses: [10.180.0.4], conditions: { ready: true } }, { addresses: [10.180.0.5], conditions: { ready: true } }]
  ports: [{ name: p80, port: 80, protocol: TCP }]
- apiVersion: v1
  kind: Service
  metadata: { name: kube-dns, namespace: kube-system }
  spec: { clusterIP: 10.0.0.10, ports: [{ name: dns, port: 53, protocol: UDP }, { name: dns-tcp, port: 53, protocol: TCP }] }
`;

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'knet-node-state-'));
  writeFileSync(join(dir, 'cluster.yaml'), CLUSTER);
  const put = (node: string, file: string, from: string): void => {
    mkdirSync(join(dir, 'nodes', node), { recursive: true });
    cpSync(from, join(dir, 'nodes', node, file));
  };
  put('nft-text', 'nft-ruleset.txt', fx('nft', 'overall-list-ruleset.txt'));
  put('nft-json', 'nft-ruleset.json', fx('nft', 'overall-list-ruleset.json'));
  put('ipvs', 'ipvsadm.txt', fx('ipvs', 'readme-ipvsadm-ln.txt'));
  put('ipvs', 'ipset.txt', fx('ipvs', 'ipset-list.txt'));
  put('ipvs', 'iptables-save.txt', fx('ipvs', 'iptables-save-cluster-cidr.txt'));
  put('ipvs', 'ip-route.txt', fx('routes', 'ip-route.txt'));
  put('ipvs', 'ip-addr.txt', fx('routes', 'ip-addr.txt'));
  mkdirSync(join(dir, 'nodes', 'broken'), { recursive: true });
  writeFileSync(join(dir, 'nodes', 'broken', 'nft-ruleset.json'), '{ "nftables": [ ');
  writeFileSync(join(dir, 'nodes', 'broken', 'ipvsadm.txt'), 'TCP  10.0.0.1:80 rr\nnot ipvsadm\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface NftReport {
  nodes: { node: string; format: string; findings: { code: string; severity: string; service?: string; message: string }[]; ruleCount: number; shownCount: number; tables: { chains: { name: string; rules: { line: number; rule: string }[] }[]; sets: { name: string; elements: { key: string; value?: string }[] }[] }[] }[];
}

describe('knet node nft', () => {
  it.each([
    ['nft list ruleset', 'nft-text', 'text'],
    ['nft -j list ruleset', 'nft-json', 'json'],
  ])('%s: the whole ruleset', async (_name, node, format) => {
    const { json, code } = await runKnetJson<NftReport>(['node', 'nft', node, '--snapshot', dir]);
    expect(code).toBe(0);
    expect([json.nodes[0]!.format, json.nodes[0]!.ruleCount, json.nodes[0]!.shownCount]).toEqual([format, 57, 57]);
  });

  it('--service: the chains kube-proxy named after it and the map elements that lead there', async () => {
    const { json } = await runKnetJson<NftReport>(['node', 'nft', 'nft-text', '--snapshot', dir, '--service', 'ns4/svc4']);
    const t = json.nodes[0]!.tables[0]!;
    expect(t.chains.map((c) => c.name)).toEqual([
      'service-LAUZTJTB-ns4/svc4/tcp/p80',
      'external-LAUZTJTB-ns4/svc4/tcp/p80',
      'endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80',
      'endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80',
    ]);
    expect(t.sets.map((s) => [s.name, s.elements.map((e) => `${e.key} : ${e.value ?? ''}`)])).toEqual([
      ['cluster-ips', ['172.30.0.44 : ']],
      ['service-ips', ['192.168.99.33 . tcp . 80 : goto external-LAUZTJTB-ns4/svc4/tcp/p80', '172.30.0.44 . tcp . 80 : goto service-LAUZTJTB-ns4/svc4/tcp/p80']],
    ]);
  });

  it('--port keeps the rules and elements that mention it (text and JSON alike)', async () => {
    const text = await runKnetJson<NftReport>(['node', 'nft', 'nft-text', '--snapshot', dir, '--port', '3001']);
    const json = await runKnetJson<NftReport>(['node', 'nft', 'nft-json', '--snapshot', dir, '--port', '3001']);
    const keys = (r: NftReport): unknown => r.nodes[0]!.tables[0]!.sets.map((s) => [s.name, s.elements.map((e) => e.key)]);
    expect(keys(text.json)).toEqual([
      ['no-endpoint-nodeports', ['tcp . 3001']],
      ['service-nodeports', ['tcp . 3001']],
    ]);
    expect(keys(json.json)).toEqual(keys(text.json));
    expect(text.json.nodes[0]!.findings.map((f) => [f.code, f.severity, f.service, f.message])).toEqual([
      ['nft-service-no-endpoints', 'warning', 'ns2/svc2:p80', 'kube-proxy drops new connections to NodePort tcp . 3001 (ns2/svc2:p80): the Service has no endpoint on this node (externalTrafficPolicy: Local)'],
    ]);
  });

  it('says which Services kube-proxy rejects or drops for lack of endpoints', async () => {
    const { json, code } = await runKnetJson<NftReport>(['node', 'nft', 'nft-json', '--snapshot', dir]);
    expect(code).toBe(0);
    expect(json.nodes[0]!.findings.map((f) => [f.code, f.service, f.message.split(' ')[1]])).toEqual([
      ['nft-service-no-endpoints', 'ns2/svc2:p80', 'drops'],
      ['nft-service-no-endpoints', 'ns2/svc2:p80', 'drops'],
      ['nft-service-no-endpoints', 'ns2/svc2:p80', 'drops'],
      ['nft-service-no-endpoints', 'ns6/svc6:p80', 'rejects'],
    ]);
  });

  it('human output shows hooks, priorities and line numbers', async () => {
    const { stdout } = await runKnet(['node', 'nft', 'nft-text', '--snapshot', dir, '--ip', '172.30.0.41']);
    expect(stdout).toContain('table ip kube-proxy');
    expect(stdout).toContain('L147');
    expect(stdout).toContain('ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade');
  });

  it('a malformed JSON capture: exit 2 naming the file', async () => {
    const { stderr, code } = await runKnet(['node', 'nft', 'broken', '--snapshot', dir]);
    expect(code).toBe(2);
    expect(stderr).toContain('nodes/broken/nft-ruleset.json');
    expect(stderr).toContain('nft -j list ruleset');
  });
});

describe('knet node ipvs', () => {
  interface IpvsReport {
    nodes: { virtualServerCount: number; virtualServers: { protocol: string; address: string; port: number; persistent?: number; realServers: { address: string; weight: number }[] }[]; findings: { code: string; line?: number }[] }[];
  }
  it.each([
    ['everything', [], ['TCP 10.0.0.1:443', 'TCP 10.0.0.10:53', 'UDP 10.0.0.10:53']],
    ['--service kube-system/kube-dns', ['--service', 'kube-system/kube-dns'], ['TCP 10.0.0.10:53', 'UDP 10.0.0.10:53']],
    ['--ip of a real server', ['--ip', '192.168.0.1'], ['TCP 10.0.0.1:443']],
    ['--port', ['--port', '443'], ['TCP 10.0.0.1:443']],
  ])('%s', async (_name, flags, expected) => {
    const { json, code } = await runKnetJson<IpvsReport>(['node', 'ipvs', 'ipvs', '--snapshot', dir, ...flags]);
    expect(code).toBe(0);
    expect(json.nodes[0]!.virtualServers.map((v) => `${v.protocol} ${v.address}:${v.port}`)).toEqual(expected);
    expect(json.nodes[0]!.virtualServerCount).toBe(3);
  });

  it('prints virtual and real servers as a table', async () => {
    const { stdout } = await runKnet(['node', 'ipvs', 'ipvs', '--snapshot', dir]);
    expect(stdout).toMatch(/TCP 10\.0\.0\.1:443\s+rr persistent 10800\s+192\.168\.0\.1:6443\s+Masq\s+1\s+1\s+0/);
  });

  it('lenient on a garbled line: a finding, exit 0 (warning), and a virtual server without real servers flagged', async () => {
    const { json, code } = await runKnetJson<IpvsReport>(['node', 'ipvs', 'broken', '--snapshot', dir]);
    expect(code).toBe(0);
    expect(json.nodes[0]!.findings.map((f) => [f.code, f.line])).toEqual([
      ['ipvs-line-not-understood', 2],
      ['ipvs-no-real-servers', 1],
    ]);
  });
});

describe('knet node ipset', () => {
  interface IpsetReport {
    nodes: { sets: { name: string; memberCount: number; members: string[] }[] }[];
  }
  it.each([
    ['--ip', ['--ip', '10.0.0.10'], [['KUBE-CLUSTER-IP', ['10.0.0.10,tcp:53', '10.0.0.10,udp:53']]]],
    ['--port', ['--port', '443'], [['KUBE-CLUSTER-IP', ['10.0.0.1,tcp:443']]]],
    ['--service', ['--service', 'kube-system/kube-dns'], [['KUBE-CLUSTER-IP', ['10.0.0.10,tcp:53', '10.0.0.10,udp:53']]]],
  ])('%s keeps matching members', async (_name, flags, expected) => {
    const { json } = await runKnetJson<IpsetReport>(['node', 'ipset', 'ipvs', '--snapshot', dir, ...flags]);
    expect(json.nodes[0]!.sets.map((s) => [s.name, s.members])).toEqual(expected);
  });

  it('--raw prints the capture unchanged', async () => {
    const { stdout } = await runKnet(['node', 'ipset', 'ipvs', '--snapshot', dir, '--raw']);
    expect(stdout).toBe(readFileSync(fx('ipvs', 'ipset-list.txt'), 'utf8'));
  });
});

describe('knet node iptables / ip6tables', () => {
  interface IptReport {
    nodes: { ruleCount: number; shownCount: number; tables: { name: string; chains: { name: string; rules: { line: number; target: string | null }[] }[] }[] }[];
  }
  it('--service follows KUBE-SERVICES into the Service chains', async () => {
    const { json, code } = await runKnetJson<IptReport>(['node', 'iptables', 'kind-worker', '--snapshot', demo, '--service', 'default/payments']);
    expect(code).toBe(0);
    const nat = json.nodes[0]!.tables.find((t) => t.name === 'nat')!;
    expect(nat.chains.map((c) => [c.name, c.rules.length])).toEqual([
      ['KUBE-SEP-E7XN74XR6SO44NUI', 2],
      ['KUBE-SERVICES', 1],
      ['KUBE-SVC-ZLABLHO6DKNEQHTR', 2],
    ]);
    expect(json.nodes[0]!.shownCount).toBe(5);
  });

  it('ip6tables on a node without ip6tables-save.txt: exit 2 with the capture command', async () => {
    const { stderr, code } = await runKnet(['node', 'ip6tables', 'kind-worker', '--snapshot', demo]);
    expect(code).toBe(2);
    expect(stderr).toContain('ip6tables-save > nodes/kind-worker/ip6tables-save.txt');
  });
});

describe('knet node routes', () => {
  interface RoutesReport {
    nodes: { routes: { destination: string }[]; interfaces: { name: string }[]; lookups?: { ip: string; route: { destination: string } | null; isLocal: boolean }[] }[];
  }
  it.each([
    ['a pod on another node', '10.244.0.7', '10.244.0.0/24', false],
    ['the node itself', '172.18.0.3', '172.18.0.0/16', true],
    ['anything else', '8.8.8.8', '0.0.0.0/0', false],
  ])('--ip %s', async (_name, ip, destination, isLocal) => {
    const { json } = await runKnetJson<RoutesReport>(['node', 'routes', 'ipvs', '--snapshot', dir, '--ip', ip]);
    expect(json.nodes[0]!.lookups).toEqual([{ ip, route: expect.objectContaining({ destination }), isLocal }]);
  });

  it('the demo node: routes and interfaces', async () => {
    const { json } = await runKnetJson<RoutesReport>(['node', 'routes', 'kind-worker', '--snapshot', demo]);
    expect(json.nodes[0]!.routes).toHaveLength(12);
    expect(json.nodes[0]!.interfaces.map((i) => i.name).slice(0, 2)).toEqual(['lo', 'eth0']);
  });
});

describe('knet node NODE: a node the snapshot has no state for', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'knet-nodes-'));
    cpSync(demo, dir, { recursive: true });
    for (let i = 0; i < 12; i++) {
      mkdirSync(join(dir, 'nodes', `pool-${i}`), { recursive: true });
      writeFileSync(join(dir, 'nodes', `pool-${i}`, 'ip-route.txt'), 'default via 10.0.0.1 dev eth0\n');
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('suggests the nearest names, and lists ten of fourteen with how many more', async () => {
    const r = await runKnet(['node', 'routes', 'kind-wroker', '--snapshot', dir]);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe(`Error: node "kind-wroker" has no state in snapshot ${dir}`);
    expect(lines[1]).toBe('  Did you mean kind-worker or kind-worker2?');
    expect(lines[2]).toMatch(/^ {2}Nodes with state: ([\w-]+, ){10}and 4 more$/);
  });
});
