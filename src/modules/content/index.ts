// Public surface of the content module.
export * from './render/index.ts';
