/**
 * Program descriptors: everything needed to build one compute pipeline and to
 * bind and dispatch it, as plain data. A descriptor names its WGSL source and
 * entry point, the bindings it declares (in @binding order, all in @group(0)),
 * its override constants (shapes, activation codes, workgroup size) and the
 * workgroup size. Pipelines are cached by `programKey`, so two layers of the
 * same shape share one pipeline.
 */
import { wgsl } from 'wgsl-preprocessor/wgsl-preprocessor.js';

export type BindingKind = 'storage' | 'read-only-storage' | 'uniform';

export interface BindingSpec {
  /** The variable name in the WGSL source, for error messages and the shader view. */
  name: string;
  kind: BindingKind;
}

export interface ProgramSpec {
  /** Human name, e.g. 'dense_forward'. */
  name: string;
  /** WGSL source files, concatenated in order (libraries first). */
  sources: readonly string[];
  entryPoint: string;
  bindings: readonly BindingSpec[];
  /** Pipeline-overridable constants; WG_X, WG_Y, WG_Z set the workgroup size. */
  overrides: Readonly<Record<string, number>>;
  /** Flags for the preprocessor's `#if NAME` blocks. */
  defines?: Readonly<Record<string, boolean>>;
  workgroupSize: readonly [number, number?, number?];
  /**
   * The kernel reads its grid's y through shaders/lib/grid.wgsl: where y
   * passes the adapter's limit per dimension, Runtime.dispatch folds it into z.
   */
  foldY?: boolean;
}

export function programKey(spec: ProgramSpec): string {
  const overrides = Object.entries(spec.overrides)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const defines = Object.entries(spec.defines ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v ? 1 : 0}`)
    .join(',');
  const bindings = spec.bindings.map((b) => b.kind).join(',');
  return `${spec.name}|${spec.entryPoint}|${spec.workgroupSize.join('x')}|${bindings}|${overrides}|${defines}`;
}

/**
 * Joins the sources and resolves `#if NAME` / `#elif NAME` / `#else` / `#endif`
 * with wgsl-preprocessor: each `#if NAME` in the file is handed to the
 * preprocessor as `#if ${defines[NAME]}`.
 */
export function programSource(spec: ProgramSpec): string {
  const text = hoistDirectives(spec.sources.join('\n'));
  if (!/#(if|elif)\b/.test(text)) return text;
  const strings: string[] = [];
  const values: boolean[] = [];
  let rest = text;
  const directive = /#(if|elif)[ \t]+([A-Za-z_][A-Za-z0-9_]*)/;
  for (let match = directive.exec(rest); match; match = directive.exec(rest)) {
    const name = match[2]!;
    if (!spec.defines || !(name in spec.defines)) {
      throw new Error(`Program '${spec.name}': the WGSL uses '#${match[1]} ${name}' but no define '${name}' was given.`);
    }
    strings.push(rest.slice(0, match.index) + `#${match[1]} `);
    values.push(spec.defines[name]!);
    rest = rest.slice(match.index + match[0].length);
  }
  strings.push(rest);
  const template = Object.assign([...strings], { raw: [...strings] }) as TemplateStringsArray;
  return wgsl(template, ...values);
}

/**
 * WGSL wants its directives (`enable subgroups;`, `requires ...;`) before any
 * declaration; a kernel's file declares them, but it comes after the libraries.
 * Moves every directive line to the top, once each.
 */
function hoistDirectives(text: string): string {
  const directive = /^[ \t]*(enable|requires|diagnostic)\b[^;\n]*;[ \t]*$/gm;
  const found = [...new Set(text.match(directive)?.map((line) => line.trim()) ?? [])];
  return found.length === 0 ? text : `${found.join('\n')}\n${text.replace(directive, '')}`;
}

export function workgroupOverrides(spec: ProgramSpec): Record<string, number> {
  const [x, y = 1, z = 1] = spec.workgroupSize;
  return { WG_X: x, WG_Y: y, WG_Z: z };
}
