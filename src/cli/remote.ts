// Where the remote commands (`tandem pull/apply`, `tandem import`) find a running Tandem: --url and
// --key, else TANDEM_URL and TANDEM_APP_KEY (config.ts). They never open the database.

export interface RemoteOpts {
  url?: string;
  key?: string;
}

/** The base URL (no trailing slash) and App API key, or an error naming the option to fix. */
export async function remoteTarget(opts: RemoteOpts): Promise<{ url: string; key: string }> {
  // Loaded here, not at the top: config.ts brings zod, which `tandem --help` does without.
  const cfg = (await import('../config.ts')).loadClientConfig();
  const url = opts.url ?? cfg.url;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) throw new Error(`--url must be an http or https URL (got "${url}")`);
  const key = opts.key ?? cfg.appKey;
  if (!key) throw new Error('no App API key: pass --key or set TANDEM_APP_KEY');
  return { url: url.replace(/\/+$/, ''), key };
}
