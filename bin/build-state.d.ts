export declare const STAMP: string;
/** True when `distDir` holds a complete build of `srcDir` that no source change has made stale. */
export declare function isFresh(srcDir: string, distDir: string): boolean;
