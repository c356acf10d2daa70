// The starter kit created with every workspace: the brand layout and ten components.
import type { ComponentDef, LayoutDef } from '../compose.ts';
import { starterComponents } from './components.ts';
import { brandLayout } from './layout.ts';

export { brandLayout } from './layout.ts';
export { starterComponents } from './components.ts';
export { escapeText, neutraliseLiquid, prepareProps, sanitiseRichText } from './props.ts';
export type { PropField, PropObject, PropValue, PropsSchema } from './props.ts';

export interface StarterKit {
  layout: { name: string } & LayoutDef;
  components: readonly ComponentDef[];
}

/** A fresh copy of the starter kit (callers may store and then edit it per workspace). */
export function starterKit(): StarterKit {
  return structuredClone({ layout: { name: 'brand', ...brandLayout }, components: starterComponents });
}
