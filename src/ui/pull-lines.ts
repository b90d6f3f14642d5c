/**
 * How pulls look (issue 17): one line when a pull starts and one when it ends, in every renderer;
 * on a terminal, tty-reporter.ts also shows each layer's progress below the spinner (pullDisplay).
 */
import type { KilnEvent } from '../ports.js';
import { formatBytes, formatDuration, type Style } from './style.js';

type PullEvent = Extract<KilnEvent, { type: 'pull-start' | 'pull-progress' | 'pull-end' }>;

export function formatPullLines(e: PullEvent, style: Style): string[] {
  switch (e.type) {
    case 'pull-start':
      return [`Pulling ${e.image} from ${e.registry} (pull policy ${e.policy})`];
    case 'pull-progress':
      return [];
    case 'pull-end':
      return e.ok ? [style.dim(`Pulled ${e.image}${e.imageId !== undefined ? ` (${e.imageId.replace(/^sha256:/, '').slice(0, 12)})` : ''} in ${formatDuration(e.elapsedMs)}`)] : [];
  }
}

/** Per-layer state of the pulls in flight, rendered as the spinner's text on a terminal. */
export class PullDisplay {
  private readonly pulls = new Map<string, Map<string, string>>();

  start(image: string): void {
    this.pulls.set(image, new Map());
  }

  progress(e: Extract<KilnEvent, { type: 'pull-progress' }>): void {
    const layers = this.pulls.get(e.image);
    if (layers === undefined || e.layer === '' || !/^[0-9a-f]{12}$/.test(e.layer)) return;
    const bytes = e.current !== undefined && e.total !== undefined && e.total > 0 ? ` ${formatBytes(e.current)} / ${formatBytes(e.total)}` : '';
    layers.set(e.layer, `${e.status}${bytes}`);
  }

  end(image: string): void {
    this.pulls.delete(image);
  }

  get active(): boolean {
    return this.pulls.size > 0;
  }

  /** The spinner text: each image, then up to 8 of its layers. */
  text(): string {
    const lines: string[] = [];
    for (const [image, layers] of this.pulls) {
      lines.push(`Pulling ${image}`);
      const entries = [...layers];
      for (const [layer, status] of entries.slice(-8)) lines.push(`  ${layer}: ${status}`);
      if (entries.length > 8) lines.push(`  (+${entries.length - 8} more layers)`);
    }
    return lines.join('\n');
  }
}
