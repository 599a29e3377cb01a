/**
 * Access-key policies as action patterns (SPEC §9): `chime:*` (everything), read-only
 * `chime:List*` + `chime:Get*`, or explicit actions. `*` matches any run of characters.
 */
export const ADMIN_ACTIONS: readonly string[] = ['chime:*', 'carillon:*'];
export const READ_ONLY_ACTIONS: readonly string[] = ['chime:List*', 'chime:Get*'];

export function actionAllowed(patterns: readonly string[], action: string): boolean {
  for (const p of patterns) {
    if (p === action) return true;
    if (!p.includes('*')) continue;
    const re = new RegExp(`^${p.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    if (re.test(action)) return true;
  }
  return false;
}
