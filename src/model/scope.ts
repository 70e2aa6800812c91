// A cluster read for a few namespaces only (see src/sources/scoped-list.ts): what was left out, so that a
// consumer can tell whether its answer could depend on it, and read everything when it could.

export interface PartialRead {
  /** The namespaces read in full; every cluster-scoped object is read too. */
  namespaces: ReadonlySet<string>;
  /** How many List items were left out (skipped unparsed, or parsed and in another namespace). */
  itemsLeftOut: number;
  /** Whether `text` occurs in an item left out: an object that names it may be missing from the read. */
  mentions(text: string): boolean;
}
