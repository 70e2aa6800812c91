import { describe, expect, it } from 'vitest';
import { diffEndpoints } from '../../src/endpoints/diff.js';
import type { Finding } from '../../src/model/finding.js';
import { aCluster, aPod, aService, aSlice, anEndpoints } from '../support/builders.js';

const app = { app: 'web' };
const codes = (findings: Finding[]): string[] => findings.map((f) => `${f.severity}:${f.code}`).sort();

function only(report: ReturnType<typeof diffEndpoints>) {
  expect(report.services).toHaveLength(1);
  return report.services[0]!;
}

describe('diffEndpoints', () => {
  it('reports nothing for a healthy Service whose slice and Endpoints match its ready pods', () => {
    const svc = only(
      diffEndpoints(
        aCluster({
          services: [aService('web', { selector: app })],
          pods: [aPod('w1', { labels: app, ip: '10.0.0.1' }), aPod('w2', { labels: app, ip: '10.0.0.2' })],
          endpointSlices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1' }, { ip: '10.0.0.2', pod: 'w2' }])],
          endpoints: [anEndpoints('web', ['10.0.0.1', '10.0.0.2'])],
        }),
      ),
    );
    expect(svc.findings).toEqual([]);
    expect(svc.endpoints).toEqual({ ready: ['10.0.0.1', '10.0.0.2'], notReady: [], terminating: [] });
    expect(svc.pods).toEqual({ selected: 2, ready: 2 });
    expect(svc.source).toBe('EndpointSlice');
  });

  it.each([
    {
      what: 'a selector that matches no pod, naming the pod with the nearest labels',
      pods: [aPod('b1', { labels: { app: 'back-end' }, ip: '10.0.0.1' }), aPod('x', { labels: { app: 'xecho' }, ip: '10.0.0.9' })],
      slices: [aSlice('web', [])],
      want: ['error:selector-matches-nothing'],
      check: (f: Finding[]) => expect(f[0]!.nearestPods).toEqual(['b1']),
      selector: { app: 'backend' },
    },
    {
      what: 'a Ready pod missing from the slice',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1' }), aPod('w2', { labels: app, ip: '10.0.0.2' })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1' }])],
      want: ['error:ready-pod-missing'],
      check: (f: Finding[]) => expect(f[0]).toMatchObject({ pod: 'default/w2', ip: '10.0.0.2' }),
    },
    {
      what: 'a Ready pod listed as not ready',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1' })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1', ready: false }])],
      want: ['error:no-ready-endpoints', 'error:ready-pod-missing'],
    },
    {
      what: 'a not-ready pod served as ready',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1' }), aPod('w2', { labels: app, ip: '10.0.0.2', ready: false })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1' }, { ip: '10.0.0.2', pod: 'w2', ready: true }])],
      want: ['error:not-ready-pod-serving'],
    },
    {
      what: 'an endpoint whose pod no longer exists',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1' })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1' }, { ip: '10.0.0.7', pod: 'gone' }])],
      want: ['error:stale-endpoint'],
      check: (f: Finding[]) => expect(f[0]).toMatchObject({ ip: '10.0.0.7', pod: 'default/gone' }),
    },
    {
      what: 'an endpoint of an earlier pod with the same name (StatefulSet restart, new IP)',
      pods: [aPod('w-0', { labels: app, ip: '10.0.0.5', uid: 'new' })],
      slices: [aSlice('web', [{ ip: '10.0.0.4', pod: 'w-0', podUid: 'old' }])],
      want: ['error:ready-pod-missing', 'error:stale-endpoint'],
    },
    {
      what: 'an endpoint whose pod the selector no longer picks',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1' }), aPod('old', { labels: { app: 'web-canary' }, ip: '10.0.0.3' })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1' }, { ip: '10.0.0.3', pod: 'old' }])],
      want: ['error:stale-endpoint'],
    },
    {
      what: 'an endpoint with no targetRef and no pod at that IP',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1' })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1' }, { ip: '10.0.0.99', ready: false }])],
      want: ['warning:stale-endpoint'],
    },
    {
      what: 'only not-ready pods',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1', ready: false })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1', ready: false }])],
      want: ['error:no-ready-endpoints'],
      check: (f: Finding[]) => expect(f[0]!.message).toMatch(/^no ready endpoint: 1 pod selected \(w1 not Ready \(readiness probe failing\)\); connections to this Service are rejected$/),
    },
    {
      what: 'a terminating pod still serving while nothing is ready',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1', deleting: true })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1', ready: false, serving: true, terminating: true }])],
      want: ['error:no-ready-endpoints', 'warning:terminating-endpoint'],
    },
    {
      what: 'a terminating pod draining beside a ready one',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1', deleting: true }), aPod('w2', { labels: app, ip: '10.0.0.2' })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1', ready: false, serving: true, terminating: true }, { ip: '10.0.0.2', pod: 'w2' }])],
      want: ['info:terminating-endpoint'],
    },
    {
      what: 'a terminating pod still marked ready',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1', deleting: true }), aPod('w2', { labels: app, ip: '10.0.0.2' })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1', ready: true, terminating: true }, { ip: '10.0.0.2', pod: 'w2' }])],
      want: ['error:terminating-endpoint'],
    },
    {
      what: 'a pod being deleted whose endpoint is ready and not yet terminating in the slice: the same fact, the same code',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1', deleting: true }), aPod('w2', { labels: app, ip: '10.0.0.2' })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1', ready: true, terminating: false }, { ip: '10.0.0.2', pod: 'w2' }])],
      want: ['error:terminating-endpoint'],
      check: (f: Finding[]) => expect(f[0]).toMatchObject({ ip: '10.0.0.1', pod: 'default/w1', message: expect.stringMatching(/^pod w1 \(10\.0\.0\.1\) is terminating \(its pod is being deleted/) }),
    },
    {
      what: 'a pod being deleted whose endpoint is already not ready and not terminating: nothing routes to it',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1', deleting: true }), aPod('w2', { labels: app, ip: '10.0.0.2' })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1', ready: false, terminating: false }, { ip: '10.0.0.2', pod: 'w2' }])],
      want: [],
    },
    {
      what: 'nil ready and serving conditions, which the API says mean ready',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1' })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1', ready: null, serving: null }])],
      want: [],
    },
    {
      what: 'a Service with no slices and no Endpoints at all',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1' })],
      slices: [],
      want: ['error:no-ready-endpoints', 'error:ready-pod-missing'],
    },
    {
      what: 'finished pods, which never back a Service',
      pods: [aPod('job', { labels: app, ip: '10.0.0.1', phase: 'Succeeded' })],
      slices: [aSlice('web', [])],
      want: ['error:selector-matches-nothing'],
    },
    {
      what: 'a pod with no IP yet, which the controller waits for',
      pods: [aPod('w1', { labels: app, ip: '10.0.0.1' }), aPod('w2', { labels: app })],
      slices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1' }])],
      want: [],
    },
  ])('finds $what', ({ pods, slices, want, check, selector }) => {
    const svc = only(diffEndpoints(aCluster({ services: [aService('web', { selector: selector ?? app })], pods, endpointSlices: slices })));
    expect(codes(svc.findings)).toEqual([...want].sort());
    check?.(svc.findings);
  });

  it('treats publishNotReadyAddresses pods as ready endpoints, so unready pods served are no fault', () => {
    const svc = only(
      diffEndpoints(
        aCluster({
          services: [aService('db', { selector: app, headless: true, publish: true })],
          pods: [aPod('db-0', { labels: app, ip: '10.0.0.1', ready: false }), aPod('db-1', { labels: app, ip: '10.0.0.2', ready: false })],
          endpointSlices: [aSlice('db', [{ ip: '10.0.0.1', pod: 'db-0' }])],
        }),
      ),
    );
    expect(svc.isHeadless).toBe(true);
    // db-1 must be published although it is not ready: the controller missed it.
    expect(codes(svc.findings)).toEqual(['error:ready-pod-missing']);
    expect(svc.findings[0]).toMatchObject({ pod: 'default/db-1' });
  });

  it.each([
    { what: 'no pod declares it', ports: [[{ name: 'http', containerPort: 8080 }], [{ name: 'http', containerPort: 8080 }]], want: ['error:no-ready-endpoints', 'error:target-port-unresolved'] },
    { what: 'one pod of two does not declare it', ports: [[{ name: 'web', containerPort: 8080 }], [{ name: 'http', containerPort: 8080 }]], want: ['warning:target-port-unresolved'] },
    { what: 'the pods declare it for UDP only', ports: [[{ name: 'web', containerPort: 8080, protocol: 'UDP' as const }], [{ name: 'web', containerPort: 8080, protocol: 'UDP' as const }]], want: ['error:no-ready-endpoints', 'error:target-port-unresolved'] },
  ])('reports a named targetPort that $what', ({ ports, want }) => {
    const pods = ports.map((p, i) => aPod(`w${i}`, { labels: app, ip: `10.0.0.${i + 1}`, ports: p }));
    // The controller puts pods whose port resolves into a slice with that port, the others into one without.
    const resolves = pods.filter((_, i) => ports[i]!.some((p) => p.name === 'web' && !('protocol' in p)));
    const others = pods.filter((p) => !resolves.includes(p));
    const svc = only(
      diffEndpoints(
        aCluster({
          services: [aService('web', { selector: app, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'web' }] })],
          pods,
          endpointSlices: [
            aSlice('web', resolves.map((p) => ({ ip: p.status!.podIP!, pod: p.metadata.name })), { name: 'web-1', ports: [{ name: 'http', port: 8080 }] }),
            aSlice('web', others.map((p) => ({ ip: p.status!.podIP!, pod: p.metadata.name })), { name: 'web-2', ports: [] }),
          ],
        }),
      ),
    );
    expect(codes(svc.findings)).toEqual(want.sort());
  });

  it('reports Endpoints and EndpointSlices that disagree, naming the addresses on each side', () => {
    const svc = only(
      diffEndpoints(
        aCluster({
          services: [aService('web', { selector: app })],
          pods: [aPod('w1', { labels: app, ip: '10.0.0.1' }), aPod('w2', { labels: app, ip: '10.0.0.2' })],
          endpointSlices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1' }, { ip: '10.0.0.2', pod: 'w2' }])],
          endpoints: [anEndpoints('web', ['10.0.0.1', '10.0.0.3'])],
        }),
      ),
    );
    expect(codes(svc.findings)).toEqual(['warning:slices-disagree']);
    expect(svc.findings[0]).toMatchObject({ onlyInSlices: ['10.0.0.2'], onlyInEndpoints: ['10.0.0.3'] });
  });

  it('reports two slices that disagree about one address', () => {
    const svc = only(
      diffEndpoints(
        aCluster({
          services: [aService('web', { selector: app })],
          pods: [aPod('w1', { labels: app, ip: '10.0.0.1' })],
          endpointSlices: [aSlice('web', [{ ip: '10.0.0.1', pod: 'w1' }], { name: 'a' }), aSlice('web', [{ ip: '10.0.0.1', pod: 'w1', ready: false }], { name: 'b' })],
        }),
      ),
    );
    expect(codes(svc.findings)).toEqual(['warning:slices-disagree']);
  });

  it('reports an Endpoints object truncated at 1000 addresses instead of comparing it', () => {
    const ips = Array.from({ length: 1200 }, (_, i) => `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`);
    const pods = ips.map((ip, i) => aPod(`w${i}`, { labels: app, ip }));
    const svc = only(
      diffEndpoints(
        aCluster({
          services: [aService('web', { selector: app })],
          pods,
          endpointSlices: [aSlice('web', ips.map((ip, i) => ({ ip, pod: `w${i}` })))],
          endpoints: [anEndpoints('web', ips.slice(0, 1000), [], { annotations: { 'endpoints.kubernetes.io/over-capacity': 'truncated' } })],
        }),
      ),
    );
    expect(codes(svc.findings)).toEqual(['warning:endpoints-over-capacity']);
    expect(svc.endpoints.ready).toHaveLength(1200);
  });

  it('says a Service without a selector is managed by hand, and checks nothing pod-related', () => {
    const svc = only(
      diffEndpoints(aCluster({ services: [aService('db')], endpointSlices: [aSlice('db', [{ ip: '192.168.50.10' }])], endpoints: [anEndpoints('db', ['192.168.50.10'])] })),
    );
    expect(codes(svc.findings)).toEqual(['info:no-selector']);
    expect(svc.selector).toBeNull();
  });

  it('reports a selector-less Service with no endpoints as rejecting connections', () => {
    const svc = only(diffEndpoints(aCluster({ services: [aService('db')] })));
    expect(codes(svc.findings)).toEqual(['error:no-ready-endpoints', 'info:no-selector']);
  });

  it('skips ExternalName Services with a note', () => {
    const svc = only(diffEndpoints(aCluster({ services: [aService('ext', { type: 'ExternalName', externalName: 'db.example.com' })] })));
    expect(svc.findings).toEqual([expect.objectContaining({ code: 'external-name', severity: 'info', externalName: 'db.example.com' })]);
  });

  it('reads the legacy Endpoints when the source has no EndpointSlices at all, and says so', () => {
    const report = diffEndpoints(
      aCluster({
        services: [aService('web', { selector: app })],
        pods: [aPod('w1', { labels: app, ip: '10.0.0.1' }), aPod('w2', { labels: app, ip: '10.0.0.2', ready: false })],
        endpoints: [anEndpoints('web', ['10.0.0.1'], ['10.0.0.2'])],
      }),
    );
    const svc = only(report);
    expect(svc.source).toBe('Endpoints');
    expect(svc.endpoints).toEqual({ ready: ['10.0.0.1'], notReady: ['10.0.0.2'], terminating: [] });
    expect(svc.findings).toEqual([]);
    expect(report.notes).toHaveLength(1);
  });

  it('compares IPv6 addresses in canonical form', () => {
    const svc = only(
      diffEndpoints(
        aCluster({
          services: [aService('web', { selector: app })],
          pods: [aPod('w1', { labels: app, ip: 'fd00:10:244::5' })],
          endpointSlices: [aSlice('web', [{ ip: 'fd00:10:244:0:0:0:0:5', pod: 'w1' }], { addressType: 'IPv6' })],
        }),
      ),
    );
    expect(svc.findings).toEqual([]);
  });

  it('scopes to a namespace, to all namespaces, or to one Service', () => {
    const cluster = aCluster({ services: [aService('a', { ns: 'x' }), aService('b', { ns: 'y' }), aService('c', { ns: 'y' })] });
    expect(diffEndpoints(cluster, { namespace: 'y' }).services.map((s) => s.name)).toEqual(['b', 'c']);
    expect(diffEndpoints(cluster, { allNamespaces: true }).services.map((s) => s.name)).toEqual(['a', 'b', 'c']);
    expect(diffEndpoints(cluster, { service: { namespace: 'y', name: 'c' } }).services.map((s) => s.name)).toEqual(['c']);
  });

  it('names other namespaces whose pods match only when every namespace is in view (-A)', () => {
    const cluster = aCluster({ services: [aService('web', { selector: app })], pods: [aPod('w1', { ns: 'other', labels: app, ip: '10.0.0.1' })], endpointSlices: [aSlice('web', [])] });
    const hint = (allNamespaces: boolean) => diffEndpoints(cluster, { namespace: 'default', allNamespaces }).services.find((s) => s.name === 'web')!.findings[0]!.hint;
    expect(hint(true)).toMatch(/namespace other/);
    expect(hint(false)).not.toMatch(/namespace other/);
  });

  it('does not change its input', () => {
    const cluster = aCluster({ services: [aService('web', { selector: app })], pods: [aPod('w1', { labels: app, ip: '10.0.0.1' })], endpointSlices: [aSlice('web', [])] });
    const before = JSON.stringify(cluster);
    diffEndpoints(cluster, { allNamespaces: true });
    expect(JSON.stringify(cluster)).toBe(before);
  });
});
