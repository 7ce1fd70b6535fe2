// The package has no "main" field, so its file is imported by path.
declare module 'wgsl-preprocessor/wgsl-preprocessor.js' {
  /** Template tag resolving #if/#elif/#else/#endif blocks on the template's values. */
  export function wgsl(strings: TemplateStringsArray, ...values: unknown[]): string;
}
