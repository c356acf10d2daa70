// Public surface of the content module.
export * from './render/index.ts';
export * from './resources/index.ts';
export { composeBlock, composeEmail, protectPerPerson, PER_PERSON_ROOTS } from './compose.ts';
export type { Block, ComponentDef, ComposeInput, LayoutDef } from './compose.ts';
export * from './starter/index.ts';
