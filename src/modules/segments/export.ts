// Members as CSV or NDJSON, streamed. CSV cells that a spreadsheet would run as a formula (starting
// with = + - @, a tab or a carriage return) are prefixed with a single quote (OWASP CSV injection).
import type { SegmentsService } from './service.ts';

const FORMULA = /^[=+\-@\t\r]/;

/** One CSV cell: formula-safe, quoted when it holds a comma, a quote or a line break. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
  if (FORMULA.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export async function* exportMembers(
  segments: Pick<SegmentsService, 'exportBatches'>, ws: string, segmentId: string, format: 'csv' | 'ndjson', attributes: string[],
): AsyncGenerator<string> {
  if (format === 'csv') yield `${['person_id', 'id', 'email', 'phone', 'entered_at', ...attributes].map(csvCell).join(',')}\r\n`;
  for await (const rows of segments.exportBatches(ws, segmentId)) {
    let chunk = '';
    for (const r of rows) {
      const attrs = r.attributes as Record<string, unknown>;
      if (format === 'ndjson') {
        chunk += `${JSON.stringify({ personId: r.id, id: r.external_id, email: r.email, phone: r.phone, enteredAt: r.entered_at.toISOString(), attributes: attrs })}\n`;
      } else {
        chunk += `${[r.id, r.external_id, r.email, r.phone, r.entered_at.toISOString(), ...attributes.map((a) => attrs[a])].map(csvCell).join(',')}\r\n`;
      }
    }
    yield chunk;
  }
}
