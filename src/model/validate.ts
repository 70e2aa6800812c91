// The one check between the sources and the engines. Every Kubernetes object reaches the engines
// through `validateCluster` (called by `openCluster` in src/sources/cluster.ts, for the snapshot and
// the live source alike, so that a new command gets it by reading the cluster the usual way).
//
// Engines trust the shapes declared in src/model/k8s.ts; this file holds those shapes as data and
// checks every field an engine reads: a string is a string, a list a list, a map of strings a map of
// strings, a port a whole number in range, a protocol TCP, UDP or SCTP. A wrong shape is bad input
// (exit 2) naming the file, the line where the source has one, the object and the field, never a
// crash inside an engine (exit 4) and never a silently wrong value (a selector printed as
// `app=[object Object]`). Fields knet does not read are not checked: the API server owns them.
//
// When you make an engine read a new field, add it here.
import { inputError, type KnetError } from './errors.js';
import type { Cluster } from './cluster.js';

/** A field's shape; `optional` fields may be absent (undefined), `nullable` ones also null. */
type Shape =
  | { t: 'string' }
  | { t: 'bool' }
  | { t: 'int'; min: number; max: number }
  | { t: 'intOrString'; min: number; max: number }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'list'; of: Shape }
  | { t: 'map'; fields: ReadonlyMap<string, Field>; required: string[] }
  | { t: 'stringMap' }
  | { t: 'any' };

interface Field {
  shape: Shape;
  isRequired?: boolean;
  isNullable?: boolean;
}

const str: Shape = { t: 'string' };
const bool: Shape = { t: 'bool' };
const int = (min: number, max: number): Shape => ({ t: 'int', min, max });
const port: Shape = int(1, 65535);
const list = (of: Shape): Shape => ({ t: 'list', of });
const map = (fields: Record<string, Shape | Field>): Shape => {
  const all = new Map(Object.entries(fields).map(([k, v]): [string, Field] => [k, 'shape' in v ? v : { shape: v }]));
  return { t: 'map', fields: all, required: [...all].filter(([, f]) => f.isRequired).map(([k]) => k) };
};
const required = (shape: Shape): Field => ({ shape, isRequired: true });
const nullable = (shape: Shape): Field => ({ shape, isNullable: true });
const protocol: Shape = { t: 'enum', values: ['TCP', 'UDP', 'SCTP'] };
const stringMap: Shape = { t: 'stringMap' };

const metadata = map({
  name: required(str),
  namespace: str,
  uid: str,
  labels: nullable(stringMap),
  annotations: nullable(stringMap),
  ownerReferences: nullable(list(map({ kind: str, name: str, uid: str, controller: bool }))),
});
const labelSelector = map({
  matchLabels: nullable(stringMap),
  matchExpressions: nullable(list(map({ key: required(str), operator: required(str), values: nullable(list(str)) }))),
});
const objectReference = map({ kind: str, namespace: str, name: str, uid: str });
const container = map({
  name: str,
  ports: nullable(list(map({ name: str, containerPort: required(port), protocol, hostPort: int(0, 65535) }))),
});
const endpointAddress = map({ ip: required(str), hostname: str, nodeName: nullable(str), targetRef: nullable(objectReference) });
const networkPolicyPeer = map({ podSelector: nullable(labelSelector), namespaceSelector: nullable(labelSelector), ipBlock: nullable(map({ cidr: required(str), except: nullable(list(str)) })) });
const networkPolicyPort = map({ protocol, port: { t: 'intOrString', min: 1, max: 65535 }, endPort: port });
const podCondition = map({ type: str, status: str });

/** The fields engines read, by kind (src/model/k8s.ts has the same fields as types). */
export const SHAPES: Record<string, Shape> = {
  Pod: map({
    metadata: required(metadata),
    spec: nullable(
      map({
        nodeName: str,
        hostNetwork: bool,
        hostname: str,
        subdomain: str,
        dnsPolicy: str,
        dnsConfig: nullable(map({ nameservers: nullable(list(str)), searches: nullable(list(str)), options: nullable(list(map({ name: str, value: str }))) })),
        containers: nullable(list(container)),
        initContainers: nullable(list(container)),
      }),
    ),
    status: nullable(map({ phase: str, podIP: str, podIPs: nullable(list(map({ ip: str }))), hostIP: str, conditions: nullable(list(podCondition)) })),
  }),
  Service: map({
    metadata: required(metadata),
    spec: nullable(
      map({
        type: { t: 'enum', values: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] },
        selector: nullable(stringMap),
        clusterIP: str,
        clusterIPs: nullable(list(str)),
        ipFamilies: nullable(list(str)),
        ports: nullable(list(map({ name: str, protocol, port: required(port), targetPort: { t: 'intOrString', min: 1, max: 65535 }, nodePort: int(0, 65535), appProtocol: str }))),
        externalName: str,
        externalIPs: nullable(list(str)),
        loadBalancerIP: str,
        loadBalancerSourceRanges: nullable(list(str)),
        publishNotReadyAddresses: bool,
        sessionAffinity: str,
        externalTrafficPolicy: str,
        internalTrafficPolicy: str,
        healthCheckNodePort: int(0, 65535),
      }),
    ),
    status: nullable(map({ loadBalancer: nullable(map({ ingress: nullable(list(map({ ip: str, hostname: str }))) })) })),
  }),
  Endpoints: map({
    metadata: required(metadata),
    subsets: nullable(list(map({ addresses: nullable(list(endpointAddress)), notReadyAddresses: nullable(list(endpointAddress)), ports: nullable(list(map({ name: str, port: required(port), protocol }))) }))),
  }),
  EndpointSlice: map({
    metadata: required(metadata),
    addressType: str,
    endpoints: nullable(
      list(
        map({
          addresses: required(list(str)),
          conditions: nullable(map({ ready: nullable(bool), serving: nullable(bool), terminating: nullable(bool) })),
          hostname: str,
          nodeName: str,
          zone: str,
          targetRef: nullable(objectReference),
        }),
      ),
    ),
    ports: nullable(list(map({ name: nullable(str), port: nullable(port), protocol, appProtocol: str }))),
  }),
  NetworkPolicy: map({
    metadata: required(metadata),
    spec: nullable(
      map({
        podSelector: nullable(labelSelector),
        policyTypes: nullable(list({ t: 'enum', values: ['Ingress', 'Egress'] })),
        ingress: nullable(list(map({ from: nullable(list(networkPolicyPeer)), ports: nullable(list(networkPolicyPort)) }))),
        egress: nullable(list(map({ to: nullable(list(networkPolicyPeer)), ports: nullable(list(networkPolicyPort)) }))),
      }),
    ),
  }),
  AdminNetworkPolicy: map({ metadata: required(metadata), spec: nullable({ t: 'any' }) }),
  BaselineAdminNetworkPolicy: map({ metadata: required(metadata), spec: nullable({ t: 'any' }) }),
  Namespace: map({ metadata: required(metadata), status: nullable(map({ phase: str })) }),
  Node: map({
    metadata: required(metadata),
    spec: nullable(map({ podCIDR: str, podCIDRs: nullable(list(str)), unschedulable: bool })),
    status: nullable(
      map({
        addresses: nullable(list(map({ type: required(str), address: required(str) }))),
        conditions: nullable(list(podCondition)),
        nodeInfo: nullable(map({ kubeProxyVersion: str, kubeletVersion: str })),
      }),
    ),
  }),
  ConfigMap: map({ metadata: required(metadata), data: nullable(stringMap) }),
};

/** Where an object came from, for the message: `file:line`, or the live source's name. */
export interface ObjectOrigin {
  /** e.g. `snap/cluster.yaml`, or `the API server (context kind)`. */
  source: string;
  /** The line of a field (by its path), or of the object, where the source has lines. */
  lineOf?: (path: readonly (string | number)[]) => number | undefined;
}

export interface ShapeProblem {
  where: string;
  object: string;
  field: string;
  problem: string;
}

const MAX_PROBLEMS = 20;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === 'number' || typeof v === 'boolean' ? `${typeof v} ${v}` : typeof v;
}

function expected(shape: Shape): string {
  switch (shape.t) {
    case 'string':
      return 'a string';
    case 'bool':
      return 'true or false';
    case 'int':
      return `a whole number from ${shape.min} to ${shape.max}`;
    case 'intOrString':
      return `a port name or a number from ${shape.min} to ${shape.max}`;
    case 'enum':
      return `one of ${shape.values.join(', ')}`;
    case 'list':
      return 'a list';
    case 'map':
      return 'a map';
    case 'stringMap':
      return 'a map of strings to strings';
    case 'any':
      return 'anything';
  }
}

type Report = (path: (string | number)[], problem: string) => void;

/** Deeper than any Kubernetes object: past it, input is hostile or broken, and recursion is not safe. */
export const MAX_DEPTH = 64;

/**
 * Checks `value` against `shape`. `path` is one array pushed and popped on the way down (a snapshot
 * holds millions of fields); `out` gets its own copy of it, only for a problem. Fields the shape does
 * not name, and `any` values, are not checked but their depth is bounded (scanDepth): past
 * MAX_DEPTH, nothing that walks a whole object (output, a YAML or JSON writer) is safe.
 */
function check(value: unknown, shape: Shape, path: (string | number)[], out: Report): void {
  switch (shape.t) {
    case 'any':
      scanDepth(value, path, out);
      return;
    case 'string':
      if (typeof value !== 'string') bad(value, shape, path, out);
      return;
    case 'bool':
      if (typeof value !== 'boolean') bad(value, shape, path, out);
      return;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < shape.min || value > shape.max) bad(value, shape, path, out);
      return;
    case 'intOrString':
      if (typeof value === 'string' ? value === '' : typeof value !== 'number' || !Number.isInteger(value) || value < shape.min || value > shape.max) bad(value, shape, path, out);
      return;
    case 'enum':
      if (typeof value !== 'string' || !shape.values.includes(value)) bad(value, shape, path, out);
      return;
    case 'stringMap':
      if (!isMap(value)) return bad(value, shape, path, out);
      for (const k in value) {
        const v = value[k];
        if (typeof v !== 'string') out([...path, k], `must be a string (found ${describe(v)}; quote it in YAML)`);
      }
      return;
    case 'list':
      if (!Array.isArray(value)) return bad(value, shape, path, out);
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        check(value[i], shape.of, path, out);
        path.pop();
      }
      return;
    case 'map': {
      if (!isMap(value)) return bad(value, shape, path, out);
      const fields = shape.fields;
      for (const name in value) {
        const v = value[name];
        const field = fields.get(name);
        // A string field that holds a string, the most common case by far, costs no call.
        if (typeof v === 'string' && field?.shape.t === 'string') continue;
        if (typeof v !== 'object' && field === undefined) continue;
        path.push(name);
        if (field === undefined) scanDepth(v, path, out);
        else if (v !== undefined && !(v === null && (field.isNullable || !field.isRequired))) check(v, field.shape, path, out);
        path.pop();
      }
      for (const name of shape.required) {
        if (value[name] === undefined) out([...path, name], `is required (${expected(fields.get(name)!.shape)})`);
      }
      return;
    }
  }
}

/** Reports `value` (at `path`) if it nests deeper than MAX_DEPTH; without recursion, keeping depths only. */
function scanDepth(value: unknown, path: (string | number)[], out: Report): void {
  if (typeof value !== 'object' || value === null) return;
  const values: object[] = [value];
  const depths: number[] = [path.length];
  while (values.length) {
    const v = values.pop()!;
    const depth = depths.pop()!;
    if (depth > MAX_DEPTH) {
      const below = pathTo(value, v);
      out([...path, ...below.slice(0, 8)], `is nested more than ${MAX_DEPTH} levels deep; no Kubernetes object is`);
      return;
    }
    const children: unknown[] = Array.isArray(v) ? v : Object.values(v);
    for (const x of children) {
      if (typeof x === 'object' && x !== null) {
        values.push(x);
        depths.push(depth + 1);
      }
    }
  }
}

/** The path from `root` to `target`, searched no deeper than MAX_DEPTH + 1 (for the message only). */
function pathTo(root: object, target: object): (string | number)[] {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: root, path: [] }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (v === target) return path;
    if (typeof v !== 'object' || v === null || path.length > MAX_DEPTH) continue;
    const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    for (const [k, x] of entries) if (typeof x === 'object' && x !== null) stack.push({ v: x, path: [...path, k] });
  }
  return [];
}

function bad(value: unknown, shape: Shape, path: (string | number)[], out: Report): void {
  out([...path], `must be ${expected(shape)} (found ${describe(value)})`);
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function fieldPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Semantic checks the API server makes and a snapshot may skip: ranges between fields. */
function checkRanges(obj: Record<string, unknown>, out: Report): void {
  if (obj.kind !== 'NetworkPolicy' || !isMap(obj.spec)) return;
  for (const dir of ['ingress', 'egress'] as const) {
    const rules = obj.spec[dir];
    if (!Array.isArray(rules)) continue;
    rules.forEach((rule: unknown, r) => {
      if (!isMap(rule) || !Array.isArray(rule.ports)) return;
      rule.ports.forEach((p: unknown, i) => {
        if (!isMap(p) || typeof p.endPort !== 'number') return;
        if (typeof p.port !== 'number') out(['spec', dir, r, 'ports', i, 'endPort'], 'needs a numeric port to start the range');
        else if (p.endPort < p.port) out(['spec', dir, r, 'ports', i, 'endPort'], `(${p.endPort}) is below port (${p.port})`);
      });
    });
  }
}

/**
 * Whether a value at `depth` (the length of its path) passes: answers only yes or no, and is allowed
 * to say no where `check` finds nothing (the caller then asks `check`), never yes where `check` would
 * report a problem.
 */
type Pass = (value: unknown, depth: number) => boolean;

/**
 * `check` made into one closure per shape, for the common case of an object that passes: no path is
 * kept, no problem is made, and a map looks each field up once. An object that fails is checked again
 * by `check`, so that the problems and their order come from one place.
 */
const passes = new WeakMap<Shape, Pass>();

function passOf(shape: Shape): Pass {
  let pass = passes.get(shape);
  if (!pass) passes.set(shape, (pass = compilePass(shape)));
  return pass;
}

function compilePass(shape: Shape): Pass {
  switch (shape.t) {
    case 'any':
      return isShallow;
    case 'string':
      return (v) => typeof v === 'string';
    case 'bool':
      return (v) => typeof v === 'boolean';
    case 'int': {
      const { min, max } = shape;
      return (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
    }
    case 'intOrString': {
      const { min, max } = shape;
      return (v) => (typeof v === 'string' ? v !== '' : typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max);
    }
    case 'enum': {
      const values = shape.values;
      return (v) => typeof v === 'string' && values.includes(v);
    }
    case 'stringMap':
      return (v) => {
        if (!isMap(v)) return false;
        for (const k in v) if (typeof v[k] !== 'string') return false;
        return true;
      };
    case 'list': {
      const of = passOf(shape.of);
      return (v, depth) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!of(v[i], depth + 1)) return false;
        return true;
      };
    }
    case 'map': {
      // Per field: 0 the value may be null, 1 null is a problem; then its pass.
      const fields = new Map<string, { isNullOk: boolean; pass: Pass | null }>();
      for (const [name, f] of shape.fields) {
        fields.set(name, { isNullOk: f.isNullable === true || f.isRequired !== true, pass: f.shape.t === 'string' ? null : passOf(f.shape) });
      }
      const required = shape.required;
      return (v, depth) => {
        if (!isMap(v)) return false;
        for (const name in v) {
          const x = v[name];
          const field = fields.get(name);
          if (field === undefined) {
            if (typeof x === 'object' && x !== null && !isShallow(x, depth + 1)) return false;
            continue;
          }
          if (x === undefined) continue;
          if (x === null) {
            if (field.isNullOk) continue;
            return false;
          }
          if (field.pass === null ? typeof x !== 'string' : !field.pass(x, depth + 1)) return false;
        }
        for (const name of required) if (v[name] === undefined) return false;
        return true;
      };
    }
  }
}

/** scanDepth's question, yes or no: whether nothing in `value` (at `depth`) lies deeper than MAX_DEPTH. Recursion stops there. */
function isShallow(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth > MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const x of value as unknown[]) if (typeof x === 'object' && x !== null && !isShallow(x, depth + 1)) return false;
    return true;
  }
  const o = value as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (typeof x === 'object' && x !== null && !isShallow(x, depth + 1)) return false;
  }
  return true;
}

/**
 * Whether `obj`, to be read as `kind`, certainly has no problem validateObject would report: a source
 * asks this as it parses each object, while its fields are still in the CPU's cache, and leaves only
 * the others to validateCluster (its `only`). false means "not known": NetworkPolicies, whose ranges
 * are checked across fields, always answer it.
 */
export function passesShape(obj: unknown, kind: unknown): boolean {
  const shape = typeof kind === 'string' && kind !== 'NetworkPolicy' ? SHAPES[kind] : undefined;
  return shape !== undefined && isMap(obj) && passOf(shape)(obj, 0);
}

/** The problems of one object, at most `max`. */
export function validateObject(obj: Record<string, unknown>, max = MAX_PROBLEMS): { path: (string | number)[]; problem: string }[] {
  const problems: { path: (string | number)[]; problem: string }[] = [];
  const shape = SHAPES[String(obj.kind)];
  if (!shape) return problems;
  // Nearly every object passes: say so without walking it twice. checkRanges reads NetworkPolicies only.
  if (obj.kind !== 'NetworkPolicy' && passOf(shape)(obj, 0)) return problems;
  const out = (path: (string | number)[], problem: string): void => {
    if (problems.length < max) problems.push({ path, problem });
  };
  check(obj, shape, [], out);
  checkRanges(obj, out);
  return problems;
}

/**
 * Checks every object of the cluster; throws one input error (exit 2) that names each problem
 * (the first MAX_PROBLEMS) with its file, line, object and field. `only`: the objects that may have
 * problems, when the source showed every other one to pass (passesShape) as it read it.
 */
export function validateCluster(cluster: Cluster, originOf: (obj: object) => ObjectOrigin, only?: ReadonlySet<object>): void {
  if (only?.size === 0) return;
  const problems: ShapeProblem[] = [];
  let total = 0;
  const lists = [cluster.pods, cluster.services, cluster.endpoints, cluster.endpointSlices, cluster.networkPolicies, cluster.adminNetworkPolicies, cluster.baselineAdminNetworkPolicies, cluster.namespaces, cluster.nodes, cluster.configMaps];
  for (const objects of lists) {
    for (const obj of objects as unknown as Record<string, unknown>[]) {
      if (only && !only.has(obj)) continue;
      const found = validateObject(obj);
      if (found.length === 0) continue;
      total += found.length;
      // Past the problems shown only the count matters; finding an origin is a search (sources keep none per object).
      if (problems.length >= MAX_PROBLEMS) continue;
      const origin = originOf(obj);
      const meta = isMap(obj.metadata) ? obj.metadata : {};
      const name = typeof meta.name === 'string' ? meta.name : '?';
      const object = `${String(obj.kind)} ${typeof meta.namespace === 'string' ? `${meta.namespace}/` : ''}${name}`;
      for (const p of found) {
        if (problems.length >= MAX_PROBLEMS) break;
        const line = origin.lineOf?.(p.path);
        problems.push({ where: line ? `${origin.source}:${line}` : origin.source, object, field: fieldPath(p.path), problem: p.problem });
      }
    }
  }
  if (problems.length === 0) return;
  throw shapeError(problems, total);
}

export function formatProblem(p: ShapeProblem): string {
  return `${p.where}: ${p.object}: ${p.field} ${p.problem}`;
}

function shapeError(problems: ShapeProblem[], total: number): KnetError {
  const [first, ...rest] = problems;
  const more = total - problems.length;
  return inputError(
    `${formatProblem(first!)}${total > 1 ? ` (and ${total - 1} more problem${total > 2 ? 's' : ''})` : ''}`,
    'object-malformed',
    [
      ...rest.map(formatProblem),
      ...(more > 0 ? [`… and ${more} more`] : []),
      'Fix those fields; knet reads objects as the API server stores them (`kubectl get -o yaml|json`).',
    ],
  );
}
