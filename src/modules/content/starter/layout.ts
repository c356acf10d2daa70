// The starter brand layout: head styles, a header with the workspace name, the `{{ content }}` slot
// where composition puts the blocks, and a footer with the postal address and the unsubscribe link
// (both required in marketing email). Everything here is per-person Liquid, run by the Renderer.
import type { LayoutDef } from '../compose.ts';

export const brandLayout: LayoutDef = {
  mjml: `<mjml>
  <mj-head>
    <mj-title>{{ workspace.name }}</mj-title>
    <mj-attributes>
      <mj-all font-family="Helvetica, Arial, sans-serif" />
      <mj-section background-color="#ffffff" padding="0px 16px" />
      <mj-text font-size="16px" line-height="24px" color="#1f2933" padding="8px 16px" />
      <mj-button background-color="#2454d6" color="#ffffff" font-size="16px" font-weight="bold" border-radius="6px" inner-padding="12px 24px" />
      <mj-image padding="8px 16px" />
    </mj-attributes>
    <mj-style inline="inline">
      a { color: #2454d6; }
      h1, h2, h3 { margin: 0; font-weight: bold; font-size: inherit; line-height: inherit; }
      p { margin: 0 0 12px 0; }
      .tandem-muted { color: #6b7280; }
    </mj-style>
    <mj-style>
      @media only screen and (max-width: 480px) {
        .tandem-hero h1 { font-size: 26px !important; line-height: 32px !important; }
      }
    </mj-style>
  </mj-head>
  <mj-body background-color="#f3f4f6" width="600px">
    <mj-section background-color="#f3f4f6" padding="16px 16px 8px 16px">
      <mj-column>
        <mj-text align="center" font-size="13px" color="#6b7280"><a href="{% view_in_browser_url %}" style="color:#6b7280;">View in browser</a></mj-text>
      </mj-column>
    </mj-section>
{{ content }}
    <mj-section background-color="#f3f4f6" padding="16px">
      <mj-column>
        <mj-text align="center" font-size="12px" line-height="18px" color="#6b7280">{{ workspace.name }}<br />{{ workspace.postal_address | escape | newline_to_br | raw }}</mj-text>
        <mj-text align="center" font-size="12px" line-height="18px" color="#6b7280"><a href="{% unsubscribe_url %}" style="color:#6b7280;">Unsubscribe</a> · <a href="{% preferences_url %}" style="color:#6b7280;">Email preferences</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`,
};
