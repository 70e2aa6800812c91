/**
 * A command's description as paragraphs: the source keeps its lines short, but a line break inside a
 * paragraph is only where the source was wrapped. oclif wraps help to the terminal (80 columns into a
 * pipe) on top of those breaks, which left every paragraph ragged; joined here, it is wrapped once.
 * A blank line separates paragraphs; a line starting with "- " or with a space keeps its own line.
 */
export function paragraphs(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const previous = out.at(-1);
    const isOwnLine = line === '' || line.startsWith('- ') || /^\s/.test(line);
    if (previous !== undefined && previous !== '' && !isOwnLine) out[out.length - 1] = `${previous} ${line}`;
    else out.push(line);
  }
  return out.join('\n');
}
