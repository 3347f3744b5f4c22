// Reading commander's option and argument values, which arrive as `unknown` in an action.

/** A string option's value, or undefined when absent. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A string option's value upper-cased (currency codes, symbols). */
export const upper = (v: unknown): string | undefined => (typeof v === 'string' ? v.toUpperCase() : undefined);

/** A variadic argument's values upper-cased, or undefined when none were given. */
export const codes = (list: unknown): string[] | undefined =>
  Array.isArray(list) && list.length > 0 ? list.map((s) => String(s).toUpperCase()) : undefined;
