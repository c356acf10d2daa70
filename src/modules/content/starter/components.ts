// The ten starter components created with every workspace. Each is an MJML fragment (whole
// mj-sections, so blocks stack in any order) with compose-time Liquid over `props.*`, its props
// schema and default props. Columns use percentage widths so MJML stacks them on phones.
// Prop values arrive escaped (starter/props.ts); rich text is sanitised HTML, printed with `| raw`.
import type { ComponentDef } from '../compose.ts';

const logoHeader: ComponentDef = {
  name: 'logo_header',
  mjml: `<mj-section background-color="{{ props.background }}" padding="16px">
  <mj-column>
    <mj-image src="{{ props.logo.url }}" alt="{{ props.logo.alt }}" width="{{ props.logo.width }}px" align="center"{% if props.link %} href="{{ props.link.url }}" title="{{ props.link.label }}"{% endif %} />
  </mj-column>
</mj-section>`,
  schema: {
    logo: { type: 'image', label: 'Logo' },
    link: { type: 'link', label: 'Logo link', optional: true },
    background: { type: 'colour', label: 'Background' },
  },
  defaults: {
    logo: { url: 'https://placehold.co/240x80/png?text=Logo', alt: 'Logo', width: 120 },
    link: { url: 'https://example.com', label: 'Visit our website' },
    background: '#ffffff',
  },
};

const hero: ComponentDef = {
  name: 'hero',
  mjml: `<mj-section background-color="{{ props.background }}" padding="32px 16px" css-class="tandem-hero">
  <mj-column>
    {% if props.image %}<mj-image src="{{ props.image.url }}" alt="{{ props.image.alt }}" width="{{ props.image.width }}px" />{% endif %}
    <mj-text align="center" color="{{ props.text_colour }}" font-size="32px" line-height="40px"><h1>{{ props.title }}</h1></mj-text>
    <mj-text align="center" color="{{ props.text_colour }}" font-size="18px" line-height="26px">{{ props.subtitle }}</mj-text>
    {% if props.cta %}<mj-button href="{{ props.cta.url }}" align="center">{{ props.cta.label }}</mj-button>{% endif %}
  </mj-column>
</mj-section>`,
  schema: {
    title: { type: 'text', label: 'Title', maxLength: 200 },
    subtitle: { type: 'text', label: 'Subtitle', maxLength: 500 },
    image: { type: 'image', label: 'Image', optional: true },
    cta: { type: 'link', label: 'Button', optional: true },
    background: { type: 'colour', label: 'Background' },
    text_colour: { type: 'colour', label: 'Text colour' },
  },
  defaults: {
    title: 'Something new is here',
    subtitle: 'A short line that tells readers why this email matters.',
    cta: { url: 'https://example.com', label: 'Find out more' },
    background: '#1e3a8a',
    text_colour: '#ffffff',
  },
};

const heading: ComponentDef = {
  name: 'heading',
  mjml: `<mj-section padding="16px 16px 0px 16px">
  <mj-column>
    <mj-text font-size="24px" line-height="32px" color="{{ props.colour }}"><h2>{{ props.text }}</h2></mj-text>
  </mj-column>
</mj-section>`,
  schema: {
    text: { type: 'text', label: 'Heading', maxLength: 200 },
    colour: { type: 'colour', label: 'Colour' },
  },
  defaults: { text: 'A clear heading', colour: '#111827' },
};

const paragraph: ComponentDef = {
  name: 'paragraph',
  mjml: `<mj-section>
  <mj-column>
    <mj-text>{{ props.body | raw }}</mj-text>
  </mj-column>
</mj-section>`,
  schema: { body: { type: 'richText', label: 'Text' } },
  defaults: { body: '<p>Write a few friendly sentences here. <b>Bold</b> and <a href="https://example.com">links</a> are fine.</p>' },
};

const button: ComponentDef = {
  name: 'button',
  mjml: `<mj-section padding="8px 16px">
  <mj-column>
    <mj-button href="{{ props.link.url }}" background-color="{{ props.background }}" color="{{ props.text_colour }}"{% if props.full_width %} width="100%"{% endif %}>{{ props.link.label }}</mj-button>
  </mj-column>
</mj-section>`,
  schema: {
    link: { type: 'link', label: 'Link' },
    background: { type: 'colour', label: 'Button colour' },
    text_colour: { type: 'colour', label: 'Label colour' },
    full_width: { type: 'boolean', label: 'Full width' },
  },
  defaults: {
    link: { url: 'https://example.com/start', label: 'Get started' },
    background: '#2454d6',
    text_colour: '#ffffff',
    full_width: false,
  },
};

const image: ComponentDef = {
  name: 'image',
  mjml: `<mj-section>
  <mj-column>
    <mj-image src="{{ props.image.url }}" alt="{{ props.image.alt }}" width="{{ props.image.width }}px"{% if props.link %} href="{{ props.link.url }}" title="{{ props.link.label }}"{% endif %} />
    {% if props.caption %}<mj-text align="center" font-size="13px" color="#6b7280">{{ props.caption }}</mj-text>{% endif %}
  </mj-column>
</mj-section>`,
  schema: {
    image: { type: 'image', label: 'Image' },
    link: { type: 'link', label: 'Link', optional: true },
    caption: { type: 'text', label: 'Caption', optional: true, maxLength: 300 },
  },
  defaults: {
    image: { url: 'https://placehold.co/1136x600/png', alt: 'A descriptive image', width: 568 },
    caption: 'A short caption',
  },
};

const twoColumns: ComponentDef = {
  name: 'two_columns',
  mjml: `<mj-section padding="8px 8px">
  {% for column in props.columns %}<mj-column width="50%">
    {% if column.image %}<mj-image src="{{ column.image.url }}" alt="{{ column.image.alt }}" width="{{ column.image.width }}px" />{% endif %}
    <mj-text font-size="18px" line-height="24px"><h3>{{ column.title }}</h3></mj-text>
    <mj-text>{{ column.body | raw }}</mj-text>
    {% if column.link %}<mj-text><a href="{{ column.link.url }}">{{ column.link.label }}</a></mj-text>{% endif %}
  </mj-column>{% endfor %}
</mj-section>`,
  schema: {
    columns: {
      type: 'list',
      label: 'Columns',
      minItems: 2,
      maxItems: 2,
      items: {
        title: { type: 'text', label: 'Title', maxLength: 200 },
        body: { type: 'richText', label: 'Text' },
        image: { type: 'image', label: 'Image', optional: true },
        link: { type: 'link', label: 'Link', optional: true },
      },
    },
  },
  defaults: {
    columns: [
      {
        title: 'First point',
        body: 'Say one thing well.',
        image: { url: 'https://placehold.co/536x300/png', alt: 'First illustration', width: 268 },
        link: { url: 'https://example.com/one', label: 'Read more' },
      },
      {
        title: 'Second point',
        body: 'Then say another.',
        image: { url: 'https://placehold.co/536x300/png', alt: 'Second illustration', width: 268 },
        link: { url: 'https://example.com/two', label: 'Learn more' },
      },
    ],
  },
};

const productCard: ComponentDef = {
  name: 'product_card',
  mjml: `<mj-section padding="16px 8px">
  <mj-column width="40%" vertical-align="middle">
    <mj-image src="{{ props.image.url }}" alt="{{ props.image.alt }}" width="{{ props.image.width }}px" href="{{ props.link.url }}" />
  </mj-column>
  <mj-column width="60%" vertical-align="middle">
    <mj-text font-size="18px" line-height="24px"><h3>{{ props.name }}</h3></mj-text>
    {% if props.description %}<mj-text css-class="tandem-muted">{{ props.description }}</mj-text>{% endif %}
    <mj-text font-size="20px" font-weight="bold">{{ props.price }}</mj-text>
    <mj-button href="{{ props.link.url }}" align="left">{{ props.link.label }}</mj-button>
  </mj-column>
</mj-section>`,
  schema: {
    image: { type: 'image', label: 'Product image' },
    name: { type: 'text', label: 'Name', maxLength: 200 },
    description: { type: 'text', label: 'Description', optional: true, maxLength: 500 },
    price: { type: 'text', label: 'Price', maxLength: 50 },
    link: { type: 'link', label: 'Button' },
  },
  defaults: {
    image: { url: 'https://placehold.co/400x400/png', alt: 'Product photo', width: 200 },
    name: 'Product name',
    description: 'One line about why people love it.',
    price: '€49.00',
    link: { url: 'https://example.com/product', label: 'Shop now' },
  },
};

const divider: ComponentDef = {
  name: 'divider',
  mjml: `<mj-section padding="8px 16px">
  <mj-column>
    <mj-divider border-color="{{ props.colour }}" border-width="{{ props.thickness }}px" />
  </mj-column>
</mj-section>`,
  schema: {
    colour: { type: 'colour', label: 'Colour' },
    thickness: { type: 'number', label: 'Thickness (px)', integer: true, min: 1, max: 10 },
  },
  defaults: { colour: '#e5e7eb', thickness: 1 },
};

const footer: ComponentDef = {
  name: 'footer',
  mjml: `<mj-section background-color="{{ props.background }}" padding="24px 16px">
  <mj-column>
    {% if props.note %}<mj-text align="center" font-size="13px" line-height="20px" color="#6b7280">{{ props.note }}</mj-text>{% endif %}
    <mj-text align="center" font-size="12px" line-height="18px" color="#6b7280">{{ workspace.name }}<br />{{ workspace.postal_address | escape | newline_to_br | raw }}</mj-text>
    <mj-text align="center" font-size="12px" line-height="18px" color="#6b7280"><a href="{% unsubscribe_url %}" style="color:#6b7280;">{{ props.unsubscribe_label }}</a></mj-text>
  </mj-column>
</mj-section>`,
  schema: {
    note: { type: 'text', label: 'Note', optional: true, maxLength: 500 },
    unsubscribe_label: { type: 'text', label: 'Unsubscribe link text', maxLength: 100 },
    background: { type: 'colour', label: 'Background' },
  },
  defaults: {
    note: 'You receive this email because you signed up on our website.',
    unsubscribe_label: 'Unsubscribe',
    background: '#f9fafb',
  },
};

/** In the order an editor would list them. */
export const starterComponents: readonly ComponentDef[] = [
  logoHeader,
  hero,
  heading,
  paragraph,
  button,
  image,
  twoColumns,
  productCard,
  divider,
  footer,
];
