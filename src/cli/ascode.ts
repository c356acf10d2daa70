// `tandem pull DIR` and `tandem apply DIR`: content resources and segments as YAML files, over the REST
// API of a running Tandem (docs/as-code.md). These never open the database.
import type { Command } from 'commander';
import type * as AsCodeModule from '../ascode/index.ts';
import type { ContentClient, PlanEntry, PullEntry } from '../ascode/index.ts';
import { remoteTarget, type RemoteOpts as Remote } from './remote.ts';

/** Loaded when a command runs (yaml, zod): `tandem --help` does without. */
type AsCode = typeof AsCodeModule;
const asCode = (): Promise<AsCode> => import('../ascode/index.ts');

interface RemoteOpts extends Remote {
  json?: boolean;
}

async function client(ac: AsCode, opts: RemoteOpts): Promise<ContentClient> {
  const { url, key } = await remoteTarget(opts);
  return ac.createContentClient(ac.httpTransport(url, key));
}

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

function planLine(e: PlanEntry): string {
  const what = `${e.action.padEnd(9)}  ${e.kind.padEnd(9)}  ${e.name}`;
  if (e.action === 'untracked') return `${what}  (on the server, no file; --prune deletes it)`;
  if (e.action === 'delete') return e.segmentKind === 'manual' ? `${what}  (a manual list: its members go with it)` : what;
  if (e.kind === 'segment') return `${what}  (${e.segmentKind ?? ''}${e.version === undefined ? '' : `, server v${e.version}`})`;
  const versions = e.draftVersion === undefined ? '' : `, server draft v${e.draftVersion}, published ${e.publishedVersion === null || e.publishedVersion === undefined ? 'none' : `v${e.publishedVersion}`}`;
  return `${what}  (${e.status ?? ''}${versions})`;
}

function planSummary(ac: AsCode, plan: PlanEntry[]): string {
  const c = ac.countActions(plan);
  return `${c.create} to create, ${c.update} to update, ${c.publish} to publish, ${c.delete} to delete, ${c.unchanged} unchanged, ${c.untracked} untracked`;
}

function pullLine(e: PullEntry): string {
  const note = e.action === 'local_only' ? '  (not on the server; --prune deletes the file)' : '';
  return `${e.action.padEnd(10)}  ${e.file}${note}`;
}

export function registerAsCodeCommands(program: Command): void {
  const urlHelp = 'Tandem base URL (default: TANDEM_URL, else http://127.0.0.1:3000)';
  const keyHelp = 'the workspace\'s App API key (default: TANDEM_APP_KEY)';

  program.command('pull <dir>')
    .description('Write the workspace\'s layouts, components, snippets, templates and segments (manual lists without members) as YAML files into DIR')
    .option('--url <url>', urlHelp).option('--key <key>', keyHelp)
    .option('--prune', 'delete .yaml files of resources and segments the server does not have')
    .option('--json', 'print one JSON object')
    .action(async (dir: string, opts: RemoteOpts & { prune?: boolean }) => {
      const ac = await asCode();
      const files = await ac.pull({ dir, client: await client(ac, opts), prune: !!opts.prune });
      if (opts.json) return out(JSON.stringify({ files }));
      const written = files.filter((f) => f.action === 'written').length;
      const lines = files.filter((f) => f.action !== 'unchanged').map(pullLine);
      out([...lines, `${files.length - files.filter((f) => f.action === 'local_only' || f.action === 'deleted').length} resources pulled into ${dir}, ${written} files written`].join('\n'));
    });

  program.command('apply <dir>')
    .description('Make the workspace\'s resources and segments match the YAML files in DIR (prints the plan, then applies it; segments only when DIR has a segments/ folder)')
    .option('--url <url>', urlHelp).option('--key <key>', keyHelp)
    .option('--dry-run', 'print the plan only')
    .option('--prune', 'delete resources and segments that have no file (listed in the plan first; a pruned manual list loses its members)')
    .option('--json', 'print the plan as one JSON object')
    .option('--force', 'publish templates even when their lint has errors')
    .action(async (dir: string, opts: RemoteOpts & { dryRun?: boolean; prune?: boolean; force?: boolean }) => {
      const dryRun = !!opts.dryRun;
      const ac = await asCode();
      await ac.apply({
        dir, client: await client(ac, opts), dryRun, prune: !!opts.prune, force: !!opts.force,
        onPlan: (plan) => {
          if (opts.json) return out(JSON.stringify({ dryRun, plan }));
          out([...plan.map(planLine), `Plan: ${planSummary(ac, plan)}.`].join('\n'));
        },
      }).then((result) => {
        if (opts.json) return;
        if (dryRun) out('Dry run: nothing was changed.');
        else out(ac.isNoop(result.plan) ? 'Nothing to change.' : 'Applied.');
      });
    });
}
