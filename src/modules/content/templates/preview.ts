// Previews: a template version rendered for a real person (their attributes plus a chosen or their
// latest event) or for sample JSON; where a layout, component or snippet is used; and, for a
// component change, every template that uses it before and after.
import type { Config } from '../../../config.ts';
import type { Db } from '../../../db/pool.ts';
import { AppError } from '../../../errors.ts';
import type { PeopleQueryService } from '../../people/index.ts';
import type { RenderContextInput, RenderLinks } from '../render/index.ts';
import { createContentRepo } from '../resources/repo.ts';
import type { ContentResource, ContentService } from '../resources/index.ts';
import type { VersionChoice } from './loader.ts';
import type { RenderedMessage, TemplateRenderService } from './service.ts';

export interface PreviewInput {
  version?: VersionChoice | undefined;
  locale?: string | undefined;
  /** A real person, by Tandem id, user id or email. */
  person?: { id?: string | undefined; userId?: string | undefined; email?: string | undefined } | undefined;
  /** One of the person's events (timeline id); default: their latest track event. */
  eventId?: string | undefined;
  /** Sample data; with a person, `event` and `trigger` here replace theirs and `customer` is laid over their attributes. */
  data?: { customer?: Record<string, unknown> | undefined; event?: Record<string, unknown> | undefined; trigger?: Record<string, unknown> | undefined } | undefined;
}

export interface PreviewContext {
  context: RenderContextInput;
  person: { id: string } | null;
  event: { id: string; name: string | null } | null;
}

export interface ChangePreview {
  template: { id: string; name: string };
  before: { subject: string; html: string } | { error: { code: string; message: string } };
  after: { subject: string; html: string } | { error: { code: string; message: string } };
  changed: boolean;
}

type Outcome = { subject: string; html: string } | { error: { code: string; message: string } };

export function createPreviewService(deps: {
  db: Db; templates: TemplateRenderService; content: ContentService; peopleQuery: PeopleQueryService; config: Pick<Config, 'publicUrl'>;
}) {
  const { templates, peopleQuery } = deps;
  const base = deps.config.publicUrl.replace(/\/+$/, '');
  // Real sends carry signed links; previews show where each link goes.
  const links: RenderLinks = {
    unsubscribe_url: `${base}/preview/unsubscribe`,
    preferences_url: `${base}/preview/preferences`,
    view_in_browser_url: `${base}/preview/view-in-browser`,
  };

  async function contextFor(workspaceId: string, input: PreviewInput): Promise<PreviewContext> {
    const sample = input.data ?? {};
    const ref = input.person;
    if (!ref || (ref.id === undefined && ref.userId === undefined && ref.email === undefined)) {
      if (input.eventId !== undefined) throw new AppError('request.invalid', 'eventId: needs a person', { field: 'eventId' });
      const customer = sample.customer ?? {};
      const id = typeof customer['id'] === 'string' ? customer['id'] : 'sample';
      const email = typeof customer['email'] === 'string' ? customer['email'] : null;
      return {
        context: {
          person: { id, externalId: id, email, attributes: customer },
          event: sample.event ?? {}, trigger: sample.trigger ?? {}, links,
          message: { id: 'preview' },
        },
        person: null, event: null,
      };
    }
    const [key, by] = ref.id !== undefined ? [ref.id, 'id' as const] : ref.userId !== undefined ? [ref.userId, 'userId' as const] : [ref.email ?? '', 'email' as const];
    const p = await peopleQuery.get(workspaceId, key, by);
    const ev = sample.event ? undefined : await peopleQuery.eventOf(workspaceId, p.id, input.eventId);
    if (input.eventId !== undefined && !ev) throw new AppError('event.not_found', undefined, { field: 'eventId' });
    const attributes = { ...(p.attributes as Record<string, unknown>), ...sample.customer };
    return {
      context: {
        person: { id: p.id, externalId: p.userId, email: p.email, phone: p.phone, locale: p.locale, timezone: p.timezone, attributes },
        event: sample.event ?? ev?.properties ?? {}, trigger: sample.trigger ?? {}, links,
        message: { id: 'preview' },
      },
      person: { id: p.id },
      event: ev ? { id: ev.id, name: ev.name } : null,
    };
  }

  async function outcome(run: () => Promise<RenderedMessage>): Promise<Outcome> {
    try {
      const r = await run();
      return { subject: r.email?.subject ?? '', html: r.email?.html ?? r.sms?.body ?? r.in_app?.body ?? r.webhook?.body ?? '' };
    } catch (err) {
      if (err instanceof AppError) return { error: { code: err.code, message: err.message } };
      throw err;
    }
  }

  return {
    contextFor,

    templateByName(workspaceId: string, name: string) {
      return createContentRepo(deps.db).findByName(workspaceId, 'template', name);
    },

    async preview(workspaceId: string, templateId: string, input: PreviewInput): Promise<PreviewContext & { rendered: RenderedMessage }> {
      const ctx = await contextFor(workspaceId, input);
      const rendered = await templates.render(workspaceId, templateId, {
        mode: 'preview', version: input.version, locale: input.locale, context: ctx.context,
      });
      return { ...ctx, rendered };
    },

    /** Templates whose latest draft or published version uses this layout, component or snippet. */
    async usage(workspaceId: string, kind: 'layout' | 'component' | 'snippet', id: string): Promise<ContentResource[]> {
      const r = await deps.content.get(workspaceId, kind, id);
      return createContentRepo(deps.db).templatesUsing(workspaceId, kind, r.name);
    },

    /**
     * Every template using a component, rendered with the component's published version (before)
     * and with `version` (after; default its latest draft). Templates render at their published
     * version, or their draft if never published.
     */
    async componentChange(workspaceId: string, componentId: string, input: PreviewInput & { componentVersion?: number | undefined }): Promise<{
      component: { id: string; name: string; publishedVersion: number | null; candidateVersion: number };
      templates: ChangePreview[];
    }> {
      const component = await deps.content.get(workspaceId, 'component', componentId);
      const candidate = input.componentVersion ?? component.draftVersion;
      if (candidate < 1 || candidate > component.draftVersion) throw new AppError('content.version_not_found', undefined, { field: 'componentVersion' });
      const users = await createContentRepo(deps.db).templatesUsing(workspaceId, 'component', component.name);
      const ctx = await contextFor(workspaceId, input);
      const out: ChangePreview[] = [];
      for (const t of users) {
        const version = t.publishedVersion ?? t.draftVersion;
        const run = (v: number | null) => () => templates.render(workspaceId, t.id, {
          mode: 'preview', version, locale: input.locale, context: ctx.context,
          componentVersions: v === null ? undefined : new Map([[component.id, v]]),
        });
        const before = await outcome(run(component.publishedVersion));
        const after = await outcome(run(candidate));
        out.push({ template: { id: t.id, name: t.name }, before, after, changed: JSON.stringify(before) !== JSON.stringify(after) });
      }
      return {
        component: { id: component.id, name: component.name, publishedVersion: component.publishedVersion, candidateVersion: candidate },
        templates: out,
      };
    },
  };
}

export type PreviewService = ReturnType<typeof createPreviewService>;
