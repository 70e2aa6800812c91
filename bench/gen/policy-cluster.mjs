// Generates a cluster for the policy benchmark as one JSON List: `namespaces` namespaces of
// `podsPerNamespace` pods each, and `policies` NetworkPolicies spread over them, of the shapes real
// clusters have (default deny, same-namespace allow by label, cross-namespace allow by namespace label,
// named ports, endPort ranges, ipBlocks with except, egress to DNS).
import { writeFile } from 'node:fs/promises';

const apps = ['web', 'api', 'db', 'cache', 'worker'];
const teams = ['blue', 'green', 'red', 'gold', 'grey'];

export function buildPolicyCluster({ namespaces = 50, podsPerNamespace = 20, policies = 200 } = {}) {
  const items = [];
  const nsNames = Array.from({ length: namespaces }, (_, i) => `ns-${String(i).padStart(2, '0')}`);
  nsNames.forEach((ns, i) => {
    items.push({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns, team: teams[i % teams.length], env: i % 2 ? 'prod' : 'staging' } },
    });
  });
  let ipCounter = 0;
  nsNames.forEach((ns) => {
    for (let p = 0; p < podsPerNamespace; p++) {
      const app = apps[p % apps.length];
      const ip = `10.${64 + Math.floor(ipCounter / 65536)}.${Math.floor(ipCounter / 256) % 256}.${ipCounter % 256}`;
      ipCounter++;
      const node = `node-${ipCounter % 20}`;
      items.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${app}-${p}`, namespace: ns, labels: { app, tier: p % 2 ? 'backend' : 'frontend', version: `v${p % 3}` } },
        spec: {
          nodeName: node,
          containers: [{ name: app, image: `example/${app}:1`, ports: [{ name: 'http', containerPort: 8080 + (p % 3) }, { name: 'metrics', containerPort: 9090 }] }],
        },
        status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: `172.18.0.${ipCounter % 20}`, conditions: [{ type: 'Ready', status: 'True' }] },
      });
    }
  });
  for (let k = 0; k < policies; k++) {
    const ns = nsNames[k % namespaces];
    const app = apps[k % apps.length];
    const shape = Math.floor(k / namespaces) % 4;
    const name = `policy-${k}`;
    let spec;
    if (shape === 0) spec = { podSelector: {}, policyTypes: ['Ingress'] };
    else if (shape === 1) {
      spec = {
        podSelector: { matchLabels: { app } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { tier: 'frontend' } } }], ports: [{ port: 'http' }] },
          { from: [{ namespaceSelector: { matchLabels: { team: teams[k % teams.length] } }, podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] } }], ports: [{ port: 80, endPort: 90 }] },
        ],
      };
    } else if (shape === 2) {
      spec = {
        podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }] },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['staging'] }] } }, { ipBlock: { cidr: '10.64.0.0/14', except: ['10.64.1.0/24'] } }] }],
        egress: [
          { to: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 80 }, { port: 5432 }] },
          { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [{ port: 53, protocol: 'UDP' }] },
        ],
      };
    } else {
      spec = { podSelector: { matchLabels: { app, version: 'v1' } }, ingress: [{ from: [{ podSelector: {} }] }, { ports: [{ port: 80, protocol: 'TCP' }] }] };
    }
    items.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });
  }
  return { apiVersion: 'v1', kind: 'List', items };
}

export async function generatePolicyCluster(file, options) {
  await writeFile(file, JSON.stringify(buildPolicyCluster(options)));
}
