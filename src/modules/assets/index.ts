// Public surface of the assets module.
export { createAssetService, type AssetService, type AssetServiceDeps, type Saved, type ServedFile } from './service.ts';
export { registerAssetRoutes } from './routes.ts';
export { createBlobStore, type BlobStore } from './storage/store.ts';
export { sanitizeSvg } from './svg.ts';
export {
  ASSET_TYPES, VARIANT_WIDTHS,
  type Asset, type AssetContentType, type AssetMeta, type AssetPage, type AssetUsage, type UsageFinder,
} from './types.ts';
