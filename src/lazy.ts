// Heavy packages (mjml, sharp, mailparser) are loaded at their first use, not at startup: together
// they were most of the 3 s of CPU a restart spent importing modules (docs/operations.md#the-compiled-cli).

/** A loader that imports once, on its first call, and hands every caller the same promise. */
export function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}
