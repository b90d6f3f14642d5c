/**
 * project.toml (extensions/project-descriptor.md): project descriptor 0.2 ([_] and [io.buildpacks]), and the
 * legacy 0.1 shape ([project], [build] with [[build.buildpacks]] and [[build.pre.group]]/[[build.post.group]],
 * [metadata]) accepted with a warning. Other top-level tables belong to other
 * tools, so they are not reported.
 */
import { PROJECT_TABLE } from './labels.js';
import { decodeToml, type DecodeContext, type TableReader } from './decode.js';
import type { InlineScript, ModuleRef, ParseResult, ProjectDescriptor } from './models.js';

export function parseProjectDescriptor(text: string, file: string): ParseResult<ProjectDescriptor> {
  return decodeToml(text, file, (root, ctx) => {
    const legacy = !root.has('_') && (root.has('project') || root.has('build'));
    const value = legacy ? decodeV01(root, ctx) : decodeV02(root, ctx);
    root.ignore(...Object.keys(root.data));
    return value;
  });
}

function empty(): ProjectDescriptor {
  return { schemaVersion: '0.2', id: '', name: '', version: '', include: [], exclude: [], buildEnv: [], group: [], metadata: {} };
}

function decodeV02(root: TableReader, ctx: DecodeContext): ProjectDescriptor {
  const out = empty();
  const meta = root.optTable('_');
  if (meta) {
    const schema = meta.optString('schema-version');
    if (schema === undefined) ctx.warn('_.schema-version', 'is missing; assuming 0.2');
    else if (schema !== '0.2') ctx.error('_.schema-version', `"${schema}" is not supported (use "0.2")`);
    out.id = meta.string('id');
    out.name = meta.string('name');
    out.version = meta.string('version');
    out.metadata = meta.freeTable('metadata');
    // Informational fields of the descriptor: read so they are not reported as unknown.
    meta.stringArray('authors');
    meta.string('documentation-url');
    const sourceUrl = meta.string('source-url');
    if (sourceUrl !== '') out.sourceUrl = sourceUrl;
    meta.tableArray('licenses', (l) => ({ type: l.string('type'), uri: l.string('uri') }));
    meta.finish();
  }
  const io = root.optTable('io');
  const bp = io?.optTable('buildpacks');
  if (io) io.ignore(...Object.keys(io.data)); // [io.*] tables other than io.buildpacks are other tools'
  if (bp) {
    decodeSourceFilter(bp, out);
    const builder = bp.optString('builder', { nonEmpty: true });
    if (builder !== undefined) out.builder = builder;
    out.group = bp.tableArray('group', decodeGroupEntry);
    decodePrePost(bp, out);
    const build = bp.optTable('build');
    if (build) {
      out.buildEnv = decodeEnv(build);
      build.finish();
    }
    bp.finish();
  }
  return out;
}

/** Legacy 0.1: [project] id/name/version, [build] include/exclude/buildpacks/env/builder, [metadata]. */
function decodeV01(root: TableReader, ctx: DecodeContext): ProjectDescriptor {
  ctx.warn('', 'this is the legacy project descriptor 0.1 ([project]/[build]); move to schema 0.2 ([_] and [io.buildpacks])');
  const out = empty();
  out.schemaVersion = '0.1';
  const project = root.optTable('project');
  if (project) {
    out.id = project.string('id');
    out.name = project.string('name');
    out.version = project.string('version');
    project.stringArray('authors');
    project.string('documentation-url');
    const sourceUrl = project.string('source-url');
    if (sourceUrl !== '') out.sourceUrl = sourceUrl;
    project.tableArray('licenses', (l) => ({ type: l.string('type'), uri: l.string('uri') }));
    project.finish();
  }
  const build = root.optTable('build');
  if (build) {
    decodeSourceFilter(build, out);
    const builder = build.optString('builder', { nonEmpty: true });
    if (builder !== undefined) out.builder = builder;
    out.group = build.tableArray('buildpacks', decodeGroupEntry);
    decodePrePost(build, out);
    out.buildEnv = decodeEnv(build);
    build.finish();
  }
  out.metadata = root.freeTable('metadata');
  return out;
}

function decodeSourceFilter(t: TableReader, out: ProjectDescriptor): void {
  out.include = t.stringArray('include');
  out.exclude = t.stringArray('exclude');
  if (t.has('include') && t.has('exclude')) {
    t.ctx.error(t.keyPath('exclude'), 'include and exclude are mutually exclusive; set only one of them');
  }
}

/** `[[<table>.pre.group]]` and `[[<table>.post.group]]`: modules before and after every group of the order (same in both schemas). */
function decodePrePost(t: TableReader, out: ProjectDescriptor): void {
  const pre = t.optTable('pre');
  if (pre) {
    out.preGroup = pre.tableArray('group', decodeGroupEntry);
    pre.finish();
  }
  const post = t.optTable('post');
  if (post) {
    out.postGroup = post.tableArray('group', decodeGroupEntry);
    post.finish();
  }
}

function decodeEnv(t: TableReader): { name: string; value: string }[] {
  return t.tableArray('env', (e) => ({ name: e.reqString('name', { nonEmpty: true }), value: e.string('value') }));
}

/**
 * One group entry (extensions/project-descriptor.md, "io.buildpacks.group"): a buildpack by id (and
 * version), by uri (a directory relative to project.toml, an archive, `docker://`), or inline (`script`,
 * which needs an id, api and inline, and no uri). Later errors name an entry by its key path
 * (projectGroupKey).
 */
function decodeGroupEntry(e: TableReader): ModuleRef {
  const id = e.string('id');
  const uri = e.string('uri');
  const version = e.string('version');
  let script: InlineScript | undefined;
  const s = e.optTable('script');
  if (s) {
    script = { api: s.reqString('api', { nonEmpty: true }), inline: s.reqString('inline', { nonEmpty: true }), shell: s.string('shell') || '/bin/sh' };
    s.finish();
    if (id === '') e.ctx.error(e.keyPath('script'), 'an inline buildpack needs an id: set id in this entry');
    if (uri !== '') e.ctx.error(e.keyPath('script'), 'an entry is either a uri or an inline script, not both');
    if (!/^\/[^\s]*$/.test(script.shell)) e.ctx.error(e.keyPath('script.shell'), `"${script.shell}" must be an absolute path without spaces (e.g. /bin/sh)`);
  } else if (id === '' && uri === '') {
    e.ctx.error(e.path, 'needs an id or a uri');
  }
  return { id, version, optional: false, ...(uri !== '' ? { uri } : {}), ...(script !== undefined ? { script } : {}) };
}

/** The key path of a group entry as the file writes it, for errors: `io.buildpacks.group[1]` (0.1: `build.buildpacks[1]`). */
export function projectGroupKey(project: Pick<ProjectDescriptor, 'schemaVersion'>, which: 'group' | 'pre' | 'post', index: number): string {
  const legacy = project.schemaVersion === '0.1';
  const section = which === 'group' ? (legacy ? 'build.buildpacks' : `${PROJECT_TABLE}.group`) : `${legacy ? 'build' : PROJECT_TABLE}.${which}.group`;
  return `${section}[${index}]`;
}
