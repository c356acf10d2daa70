// The imports API (Bearer app key): create an import, stream its CSV file, watch its progress.
import { Readable } from 'node:stream';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { TandemApp } from '../../http/types.ts';
import type { ImportService } from './service.ts';
import { IMPORT_STATUSES, ROW_ERROR_CODES, type ImportView } from './types.ts';

const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain', 'application/octet-stream'];

const rowError = z.object({
  line: z.number().int().describe('Line of the file where the row starts (the header is line 1)'),
  field: z.string().nullable().describe('The column as written in the header; null for the row as a whole'),
  code: z.enum(ROW_ERROR_CODES), message: z.string(),
});
const importView = z.object({
  id: z.string(), type: z.literal('people'), status: z.enum(IMPORT_STATUSES),
  options: z.object({
    list: z.object({ id: z.string(), ref: z.string().describe('As given: the list id or key') }).nullable(),
    updateOnly: z.boolean(), dryRun: z.boolean(),
  }),
  fileName: z.string().nullable(), bytesRead: z.number(),
  rowsDone: z.number(), rowsCreated: z.number(), rowsUpdated: z.number(), rowsSkipped: z.number(), rowsFailed: z.number(),
  errors: z.array(rowError).describe('The first 1,000 failed and skipped rows, by line'),
  failure: z.object({ code: z.string(), message: z.string(), line: z.number().nullable() }).nullable()
    .describe('Why a failed import stopped; rows before it were imported'),
  createdAt: z.string(), startedAt: z.string().nullable(), finishedAt: z.string().nullable(), updatedAt: z.string(),
});

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const listRef = z.string().min(1).max(200).describe('A manual list, by id or key: every imported person is added to it');
const fileName = z.string().max(300).refine((s) => !s.includes('\0'), 'must not contain NUL characters');
const params = z.object({ id: z.string().max(100) });

function out(v: ImportView): z.infer<typeof importView> {
  return {
    ...v, createdAt: v.createdAt.toISOString(), startedAt: v.startedAt?.toISOString() ?? null,
    finishedAt: v.finishedAt?.toISOString() ?? null, updatedAt: v.updatedAt.toISOString(),
  };
}

function csvStream(body: unknown): Readable {
  if (body instanceof Readable) return body;
  throw new AppError('request.unsupported_media_type', 'Send the file as the body, with content-type: text/csv.', { field: 'content-type' });
}

export function registerImportRoutes(app: TandemApp, imports: ImportService): void {
  const config = { dialect: 'tandem' as const };
  const security = [{ appKey: [] }];
  const tags = ['imports'];
  const preHandler = app.auth.appKey;

  app.post('/api/imports', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Create an import waiting for its file (then PUT the file to /api/imports/:id/csv)',
      body: z.object({
        type: z.literal('people'), list: listRef.optional(),
        updateOnly: z.boolean().optional().describe('Never create people: rows naming nobody are skipped'),
        dryRun: z.boolean().optional().describe('Check and count every row, write nothing'),
        fileName: fileName.optional(),
      }).strict(),
      response: { 201: importView },
    },
  }, async (req, reply) => reply.status(201).send(out(await imports.create(req.workspaceId, req.body))));

  app.get('/api/imports', {
    preHandler, config,
    schema: {
      tags, security, summary: 'Imports, newest first (without their row errors)',
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      response: { 200: z.object({ imports: z.array(importView) }) },
    },
  }, async (req) => ({ imports: (await imports.list(req.workspaceId, req.query.limit)).map(out) }));

  app.get('/api/imports/:id', {
    preHandler, config,
    schema: { tags, security, summary: 'An import: status, progress counters and row errors', params, response: { 200: importView } },
  }, async (req) => out(await imports.get(req.workspaceId, req.params.id)));

  // The CSV body is handed to the import as a stream: a large file is never held in memory.
  void app.register((plugin, _opts, done) => {
    const scope = plugin as unknown as TandemApp;
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(CSV_TYPES, (_req, payload, next) => next(null, payload));

    scope.put('/api/imports/:id/csv', {
      preHandler, config,
      schema: {
        tags, security, consumes: ['text/csv'], params, response: { 200: importView },
        summary: 'Send a waiting import its CSV file; answers when the file is imported',
        description: 'The body is read as it arrives and written in chunks; GET /api/imports/:id shows the progress meanwhile. A file that stops being CSV or an interrupted upload ends the import as failed, with the rows before it imported.',
      },
    }, async (req) => out(await imports.run(req.workspaceId, req.params.id, csvStream(req.body))));

    scope.post('/api/imports/people', {
      preHandler, config,
      schema: {
        tags, security, consumes: ['text/csv'],
        summary: 'Import people from the CSV body in one call; answers when the file is imported',
        description: 'The same as POST /api/imports then PUT /api/imports/:id/csv. The import id is known only from the answer (or GET /api/imports).',
        querystring: z.object({
          list: listRef.optional(), update_only: flag.optional(), dry_run: flag.optional(), file_name: fileName.optional(),
        }),
        response: { 201: importView },
      },
    }, async (req, reply) => {
      const body = csvStream(req.body);
      const q = req.query;
      const created = await imports.create(req.workspaceId, { type: 'people', list: q.list, updateOnly: q.update_only, dryRun: q.dry_run, fileName: q.file_name });
      return reply.status(201).send(out(await imports.run(req.workspaceId, created.id, body)));
    });
    done();
  });
}
