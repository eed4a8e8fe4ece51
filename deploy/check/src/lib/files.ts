import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Files under `dir` whose name passes `accept`, skipping dependency and tool folders. */
export function listFiles(dir: string, accept: (name: string) => boolean): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === '.terraform' || entry === '.out') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...listFiles(path, accept));
    else if (accept(entry)) found.push(path);
  }
  return found.sort();
}
