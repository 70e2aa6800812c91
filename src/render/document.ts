import { stringify } from 'yaml';

/** The command's result as one JSON document (what --json and -o json print). */
export function renderJson(result: unknown): string {
  return escapeC1(JSON.stringify(result, null, 2));
}

// JSON.stringify escapes C0 controls but not DEL and C1 (0x9b starts an escape sequence on some
// terminals); they can only stand inside strings here, so escaping them loses nothing.
function escapeC1(json: string): string {
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
  const open = `{\n  ${JSON.stringify(key)}: [`;
  const close = '\n  ]\n}';
  yield `${shell.slice(0, at)}[`;
  for (let i = 0; i < list.length; i += CHUNK) {
    const piece = renderJson({ [key]: list.slice(i, i + CHUNK) });
    if (!piece.startsWith(open) || !piece.endsWith(close)) throw new Error(`renderJsonChunks: unexpected layout for ${key}`);
    yield `${i === 0 ? '' : ','}${piece.slice(open.length, piece.length - close.length)}`;
  }
  yield `\n  ]${shell.slice(at + JSON.stringify(marker).length)}`;
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

export function renderYaml(result: unknown): string {
  return stringify(result, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd();
}
