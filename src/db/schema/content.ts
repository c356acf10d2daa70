// Kysely table types: Content resources and their versions, assets, link checks. Keep in step with src/migrations.
import type { ColumnType } from 'kysely';
import type { Timestamp, JsonCol } from './columns.ts';

export interface ContentResourcesTable {
  workspace_id: string;
  id: string;
  kind: 'layout' | 'component' | 'snippet' | 'template';
  name: string;
  draft_version: number;
  published_version: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ContentVersionsTable {
  workspace_id: string;
  resource_id: string;
  version: number;
  body: JsonCol;
  created_at: Timestamp;
  published_at: Timestamp | null;
}

export interface AssetBlobsTable {
  hash: string;
  content_type: string;
  bytes: number;
  width: number | null;
  height: number | null;
  created_at: Timestamp;
}

export interface AssetBlobDataTable {
  key: string;
  data: Buffer;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface AssetsTable {
  workspace_id: string;
  id: string;
  hash: string;
  name: string;
  alt: ColumnType<string, string | undefined, string>;
  folder: string | null;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  source_url: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface LinkChecksTable {
  workspace_id: string;
  template_id: string;
  checked_at: Timestamp;
}

export interface LinkCheckResultsTable {
  workspace_id: string;
  template_id: string;
  url: string;
  kind: 'link' | 'image';
  status: 'ok' | 'broken' | 'blocked' | 'skipped';
  http_status: number | null;
  error: string | null;
  checked_at: Timestamp;
}
