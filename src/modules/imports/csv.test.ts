import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../errors.ts';
import { CsvSyntaxError, isRowError, parseHeader, parseRow, readCsv, type CsvRecord } from './csv.ts';

async function records(text: string | Buffer[]): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const batch of readCsv(Readable.from(typeof text === 'string' ? [Buffer.from(text)] : text)).batches) out.push(...batch);
  return out;
}

function headerError(fields: string[]): { code: string; field: string | undefined; message: string } {
  try {
    parseHeader(fields);
  } catch (err) {
    if (isAppError(err)) return { code: err.code, field: err.field, message: err.message };
    throw err;
  }
  throw new Error('parseHeader accepted the header');
}

describe('readCsv', () => {
  it('strips a BOM, unquotes "" escapes, keeps line breaks inside quotes, and gives each record the line it starts on', async () => {
    const text = '\ufeffid,note\r\nu1,"a ""quoted"" word"\r\nu2,"two\nlines"\r\n\r\nu3,"three\r\nline\r\nnote"\nu4,last';
    const got = await records(text);
    expect(got).toEqual([
      { fields: ['id', 'note'], line: 1 },
      { fields: ['u1', 'a "quoted" word'], line: 2 },
      { fields: ['u2', 'two\nlines'], line: 3 },
      { fields: ['u3', 'three\r\nline\r\nnote'], line: 6 },
      { fields: ['u4', 'last'], line: 9 },
    ]);
  });

  it('reads a file cut into 1-byte pieces the same (multi-byte characters and CRLF split across chunks)', async () => {
    const text = '\ufeffid,name\r\nu1,"Zoë\r\nÅsa"\r\nu2,日本\r\n';
    const whole = await records(text);
    const pieces = [...Buffer.from(text)].map((b) => Buffer.from([b]));
    expect(await records(pieces)).toEqual(whole);
    expect(whole[1]?.fields[1]).toBe('Zoë\r\nÅsa');
    expect(whole[2]).toEqual({ fields: ['u2', '日本'], line: 4 });
  });

  it('takes a stray quote inside a field literally, and fails with the line where an unclosed quote starts', async () => {
    expect((await records('id,a\nu1,5" screen\n'))[1]?.fields).toEqual(['u1', '5" screen']);
    const reading = records('id,a\nu1,x\nu2,"never closed\nu3,y\n');
    await expect(reading).rejects.toBeInstanceOf(CsvSyntaxError);
    await expect(reading).rejects.toMatchObject({ line: 3, message: expect.stringMatching(/not valid CSV after line 2: a quoted field is never closed/) as unknown });
  });
});

describe('parseHeader', () => {
  it('knows identity, typed attribute and topic columns', () => {
    const h = parseHeader([' Email ', 'id', 'age:number', 'vip:Boolean', 'born:date', 'plan', 'note:string', 'topic:news']);
    expect(h.columns.map((c) => c.kind)).toEqual(['email', 'id', 'attribute', 'attribute', 'attribute', 'attribute', 'attribute', 'topic']);
    expect(h.columns[2]).toMatchObject({ key: 'age', type: 'number', name: 'age:number' });
    expect(h.columns[3]).toMatchObject({ key: 'vip', type: 'boolean' });
    expect(h.columns[6]).toMatchObject({ key: 'note', type: 'string' });
    expect(h.topics).toEqual(['news']);
  });

  it('refuses headers it cannot read, naming the column', () => {
    expect(headerError(['plan', 'age'])).toMatchObject({ code: 'import.bad_header', field: 'header' });
    expect(headerError(['id', 'utm:source'])).toMatchObject({ field: 'utm:source', message: expect.stringContaining('unknown type "source"') as unknown });
    expect(headerError(['id', 'age', 'age:number'])).toMatchObject({ field: 'age:number', message: expect.stringContaining('twice') as unknown });
    expect(headerError(['id', 'ID'])).toMatchObject({ field: 'ID' });
    expect(headerError(['id', ''])).toMatchObject({ field: 'column 2' });
    expect(headerError(['id', 'topic:'])).toMatchObject({ field: 'topic:' });
    expect(headerError(['email:string'])).toMatchObject({ field: 'email:string' });
  });
});

describe('parseRow', () => {
  const header = parseHeader(['id', 'email', 'phone', 'age:number', 'vip:boolean', 'born:date', 'plan', 'topic:news']);
  const row = (fields: string[], line = 2) => parseRow(header, { fields, line });

  it('types values, leaves empty cells out and reads consent words', () => {
    expect(row(['u1', ' Ann@Example.com ', '', '42', 'Yes', '2026-02-28', ' pro ', 'unsubscribed'])).toEqual({
      line: 2, topics: { news: 'unsubscribed' },
      person: { userId: 'u1', email: 'Ann@Example.com', attributes: { age: 42, vip: true, born: '2026-02-28', plan: ' pro ' } },
    });
    expect(row(['', '', '+1 555 0100', '-1.5e3', '0', '2026-03-01T10:00:00+02:00', '', '1'])).toEqual({
      line: 2, topics: { news: 'subscribed' },
      person: { phone: '+1 555 0100', attributes: { age: -1500, vip: false, born: '2026-03-01T08:00:00.000Z' } },
    });
  });

  it('names the field and the line of a bad value', () => {
    const bad = (fields: string[]) => {
      const r = row(fields, 7);
      if (!isRowError(r)) throw new Error('accepted');
      return { line: r.line, field: r.field, code: r.code };
    };
    expect(bad(['u1', 'not-an-email', '', '', '', '', '', ''])).toEqual({ line: 7, field: 'email', code: 'invalid_email' });
    expect(bad(['u1', '', '', '0x10', '', '', '', ''])).toEqual({ line: 7, field: 'age:number', code: 'invalid_number' });
    expect(bad(['u1', '', '', '', 'maybe', '', '', ''])).toEqual({ line: 7, field: 'vip:boolean', code: 'invalid_boolean' });
    expect(bad(['u1', '', '', '', '', '2026-02-30', '', ''])).toEqual({ line: 7, field: 'born:date', code: 'invalid_date' });
    expect(bad(['u1', '', '', '', '', '2026-03-01T10:00:00', '', ''])).toEqual({ line: 7, field: 'born:date', code: 'invalid_date' });
    expect(bad(['u1', '', '', '', '', '', '', 'pending'])).toEqual({ line: 7, field: 'topic:news', code: 'invalid_consent' });
    expect(bad(['u1', '', '', '', '', '', 'a\0b', ''])).toEqual({ line: 7, field: 'plan', code: 'invalid_value' });
    expect(bad(['u1', '', '', '', '', '', 'x'.repeat(10_001), ''])).toEqual({ line: 7, field: 'plan', code: 'too_long' });
    expect(bad(['€'.repeat(400), '', '', '', '', '', '', ''])).toEqual({ line: 7, field: 'id', code: 'too_long' });
    expect(bad(['', '', '', '1', '', '', 'pro', ''])).toEqual({ line: 7, field: null, code: 'missing_identity' });
    expect(bad(['u1', 'a@b.co'])).toEqual({ line: 7, field: null, code: 'column_count' });
  });
});
