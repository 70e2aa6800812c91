import { yamlPieces } from './yaml.js';

/** The command's result as one JSON document (what --json and -o json print). */
export function renderJson(result: unknown): string {
  return escapeC1(JSON.stringify(result, null, 2));
}

// JSON.stringify escapes C0 controls but not DEL and C1 (0x9b starts an escape sequence on some
// terminals); they can only stand inside strings here, so escaping them loses nothing.
function escapeC1(json: string): string {
  // Output is nearly always ASCII without DEL: two native scans show it (an 18 MB report in 4 ms,
  // where the regular expression takes 50 ms to find nothing).
  if (Buffer.byteLength(json, 'utf8') === json.length && !json.includes('\u007f')) return json;
  return json.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Elements of the largest list per piece of renderJsonChunks. */
const CHUNK = 500;

/**
 * renderJson's text in pieces, for writing as it is made: a result whose largest field is a list
 * of 10,000 Services is never one 20 MB string. The pieces joined are exactly renderJson's text:
 * each piece of the list is stringified at the depth it has in the document and cut out.
 */
export function* renderJsonChunks(result: unknown): Generator<string> {
  const key = largestList(result);
  if (key === undefined) {
    yield renderJson(result);
    return;
  }
  const record = result as Record<string, unknown>;
  const list = record[key] as unknown[];
  const marker = `knet-chunk-${Math.random().toString(36).slice(2)}`;
  const shell = renderJson({ ...record, [key]: marker });
  const at = shell.indexOf(JSON.stringify(marker));
  yield `${shell.slice(0, at)}[`;
  for (let i = 0; i < list.length; i += CHUNK) yield `${i === 0 ? '' : ','}${listElements(key, list.slice(i, i + CHUNK))}`;
  yield `\n  ]${shell.slice(at + JSON.stringify(marker).length)}`;
}

/**
 * The text of `group`'s elements as renderJson lays them out in the list field `key` of a top-level
 * object (indented for that depth), without the brackets around them: pieces of one list, joined by
 * commas, are that list's text.
 */
function listElements(key: string, group: readonly unknown[]): string {
  const open = `{\n  ${JSON.stringify(key)}: [`;
  const close = '\n  ]\n}';
  const text = renderJson({ [key]: group });
  if (!text.startsWith(open) || !text.endsWith(close)) throw new Error(`renderJson: unexpected layout for the list ${key}`);
  return text.slice(open.length, text.length - close.length);
}

/**
 * Elements per piece of renderJsonStream: few enough that a piece's objects die young, and that its
 * text (about 90 KB for 50 Services' entries) stays below V8's large-object size (128 KB), past which
 * each string is memory mapped for it alone. On the lean 10,000-Service report, 100 entries per piece
 * cost 67,000 page faults per run and 50 entries 58,000, and diffing and writing it took 0.51 s and
 * 0.41 s (median of 9, in one process).
 */
export const STREAM_CHUNK = 50;

/**
 * renderJson's text of a document whose first field, `key`, holds a long list, made while the list is
 * read from `items`: the elements are stringified a group at a time at the depth they have in the
 * document, and the rest of the document (`rest()`: the document with that list empty) is asked for
 * only after the last element. Joined, the pieces are exactly renderJson's text of the document with
 * the list filled in, but the list never exists whole: each group is dropped once its piece is made.
 */
export function* renderJsonStream(key: string, items: Iterable<unknown>, rest: () => Record<string, unknown>): Generator<string> {
  const head = `{\n  ${JSON.stringify(key)}: `;
  let group: unknown[] = [];
  let isFirst = true;
  const piece = (): string => {
    const body = listElements(key, group);
    const out = isFirst ? `${head}[${body}` : `,${body}`;
    isFirst = false;
    group = [];
    return out;
  };
  for (const item of items) {
    group.push(item);
    if (group.length === STREAM_CHUNK) yield piece();
  }
  if (group.length) yield piece();
  const document = rest();
  const list = document[key];
  if (Object.keys(document)[0] !== key || !Array.isArray(list) || list.length !== 0) throw new Error(`renderJsonStream: rest() must start with ${key}, empty`);
  // The fields after the list, as renderJson lays them out: cut from the document with the list empty.
  const shell = renderJson(document);
  if (!shell.startsWith(`${head}[]`)) throw new Error(`renderJsonStream: unexpected layout for ${key}`);
  yield isFirst ? shell : `\n  ]${shell.slice(head.length + 2)}`;
}

/** The own field of a plain object holding the longest list, when that list is long enough to cut. */
function largestList(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return undefined;
  if (typeof (result as { toJSON?: unknown }).toJSON === 'function') return undefined;
  let best: string | undefined;
  let length = CHUNK;
  for (const [k, v] of Object.entries(result)) {
    if (Array.isArray(v) && v.length > length) {
      best = k;
      length = v.length;
    }
  }
  return best;
}

/** The command's result as one YAML document (what -o yaml prints), without the final newline. */
export function renderYaml(result: unknown): string {
  return yamlPieces(result).join('').trimEnd();
}

/** renderYaml's text and one newline, in pieces for writing as they are. */
export function renderYamlChunks(result: unknown): string[] {
  const pieces = yamlPieces(result);
  const last = pieces.length - 1;
  pieces[last] = `${pieces[last]!.trimEnd()}\n`;
  return pieces;
}
