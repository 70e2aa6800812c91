// What the sources opened in this process and must undo when the command ends (debug pods, a
// DaemonSet). Kept free of imports so that the CLI's base class can load it at no cost.

const closers = new Set<() => Promise<void>>();

/** Register something to undo at the end of the command; returns a function that unregisters it. */
export function onCommandEnd(close: () => Promise<void>): () => void {
  closers.add(close);
  return () => closers.delete(close);
}

/** Undo everything registered, all of it even when one fails; the first failure is thrown after. */
export async function closeOpenedSources(): Promise<void> {
  const all = [...closers];
  closers.clear();
  const results = await Promise.allSettled(all.map((close) => close()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
