/**
 * order.toml (platform.md, "`order.toml` (TOML)") and the [[order]] / [[order-extensions]] decoding shared with buildpack.toml
 * and builder.toml.
 */
import { decodeToml, type TableReader } from './decode.js';
import type { ModuleRef, OrderFile, OrderGroup, ParseResult } from './models.js';
import { stringifyToml } from './toml.js';

export interface OrderDecodeOptions {
  /** order.toml and buildpack.toml need a version; builder.toml lets pack-style configs omit it. */
  requireVersion: boolean;
  /** [[order-extensions]]: groups are flat lists of extensions (no nested order/group). */
  extensions?: boolean;
  /** Keys accepted and ignored in group entries (e.g. `exec-env`, which the lifecycle ignores; platform.md, "`order.toml` (TOML)"). */
  ignoredKeys?: string[];
}

/** Decodes `[[<key>]]` with `[[<key>.group]]` entries of id/version/optional. */
export function decodeOrder(t: TableReader, key: string, opts: OrderDecodeOptions): OrderGroup[] {
  return t.tableArray(key, (og) => {
    if (!og.has('group')) og.ctx.error(og.keyPath('group'), 'is required (each order entry needs a group)');
    const group = og.tableArray('group', (e) => decodeModuleRef(e, opts));
    return { group };
  });
}

export function decodeModuleRef(e: TableReader, opts: OrderDecodeOptions): ModuleRef {
  const id = e.reqString('id', { nonEmpty: true });
  const version = opts.requireVersion ? e.reqString('version', { nonEmpty: true }) : e.string('version');
  const optional = e.bool('optional', false);
  if (opts.extensions) {
    for (const nested of ['group', 'order']) {
      if (e.has(nested)) {
        e.raw(nested);
        e.ctx.error(e.keyPath(nested), 'order-extensions groups may not nest (an entry must name one extension)');
      }
    }
  }
  if (opts.ignoredKeys) e.ignore(...opts.ignoredKeys);
  return { id, version, optional };
}

/**
 * order.toml. Extension entries' `optional` is read as written (default false); the detector treats
 * every extension as optional regardless (platform.md, "`order.toml` (TOML)").
 */
export function parseOrderFile(text: string, file: string): ParseResult<OrderFile> {
  return decodeToml(text, file, (root) => ({
    order: decodeOrder(root, 'order', { requireVersion: true }),
    orderExtensions: decodeOrder(root, 'order-extensions', { requireVersion: true, extensions: true }),
  }));
}

/** Order groups as TOML-ready data; `optional` is written only when true. */
export function orderToToml(groups: OrderGroup[]): Record<string, unknown>[] {
  return groups.map((g) => ({
    group: g.group.map((m) => ({ id: m.id, version: m.version, ...(m.optional ? { optional: true } : {}) })),
  }));
}

export function stringifyOrderFile(o: OrderFile): string {
  const doc: Record<string, unknown> = { order: orderToToml(o.order) };
  if (o.orderExtensions.length > 0) doc['order-extensions'] = orderToToml(o.orderExtensions);
  return stringifyToml(doc);
}
