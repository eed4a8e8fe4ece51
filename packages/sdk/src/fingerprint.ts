import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * A stable id for this machine that does not reveal the machine id itself: SHA-256 of /etc/machine-id (or the
 * D-Bus copy), salted with the application so two vendors' fingerprints of one machine differ. Falls back to
 * the host name where neither file exists (containers without systemd).
 */
export function defaultFingerprint(application = 'atrium'): string {
  let source = '';
  for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      source = readFileSync(path, 'utf8').trim();
      if (source) break;
    } catch {
      // try the next one
    }
  }
  if (!source) source = `host:${hostname()}`;
  return createHash('sha256').update(`${application}\0${source}`).digest('hex');
}
