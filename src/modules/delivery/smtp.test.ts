import { describe, expect, it } from 'vitest';
import { textEncoding } from './smtp.ts';

describe('textEncoding', () => {
  it('is quoted-printable for mostly ASCII text (a Latin-script email, accents and all)', () => {
    expect(textEncoding('<p>Hello, order 42 shipped.</p>', 'Hello, order 42 shipped.')).toBe('quoted-printable');
    expect(textEncoding('<p>Déjà vu, garçon: crème brûlée à volonté.</p>', 'Déjà vu')).toBe('quoted-printable');
  });

  it('is base64 for text mostly outside ASCII (Cyrillic, CJK), as nodemailer would choose', () => {
    expect(textEncoding('Привет, ваш заказ отправлен', 'Привет')).toBe('base64');
    expect(textEncoding('ご注文の商品を発送しました', '発送')).toBe('base64');
  });
});
