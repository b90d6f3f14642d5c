import { describe, expect, it } from 'vitest';
import { ExitCode, KilnError } from '../../../src/errors.js';
import { checkImageRef, imageRefProblem, withDefaultTag } from '../../../src/image/image-ref.js';

describe('image reference grammar (issue 14)', () => {
  it.each([
    'busybox',
    'kiln/debian-run:bookworm',
    'library/my_app__x.y-z:1.0-rc_1',
    'localhost/app',
    'localhost:5000/team/app:1',
    '127.0.0.1:5000/app',
    'registry.example.com/a/b/c',
    'Registry.Example.com/app',
    `app@sha256:${'a'.repeat(64)}`,
    `app:1@sha256:${'b'.repeat(64)}`,
    `sha256:${'c'.repeat(64)}`,
    'c'.repeat(64),
  ])('accepts %s', (ref) => {
    expect(imageRefProblem(ref)).toBeUndefined();
  });

  it.each([
    ['MyApp', 'lowercase'],
    ['team/MyApp:1', 'lowercase'],
    ['kiln-test//x', "'//'"],
    ['/app', 'empty'],
    ['app/', 'empty'],
    ['', 'empty'],
    ['app:', 'tag'],
    ['app:-x', 'tag'],
    ['a b', 'white space'],
    ['app@sha256:abc', 'digest'],
    [`app@sha256:${'A'.repeat(64)}`, '64 lowercase hex'],
    ['app@md5', 'digest'],
    ['app-:1', 'name component'],
    ['app..x', 'name component'],
    ['localhost:port/app', 'port'],
    ['bad_host.com/app', 'host'],
    [`${'a'.repeat(256)}`, 'longer than 255'],
  ])('refuses %s with the rule it breaks', (ref, rule) => {
    expect(imageRefProblem(ref)).toContain(rule);
  });

  it('checkImageRef throws a usage error (exit 3) naming what and the rule; a config file can ask for exit 2', () => {
    let err: unknown;
    try {
      checkImageRef('Kiln/App', '--run-image');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(ExitCode.usage);
    expect((err as KilnError).message).toContain('--run-image "Kiln/App"');
    expect((err as KilnError).message).toContain('lowercase');
    expect(() => checkImageRef('a//b', 'builder.toml run.images[0].image', ExitCode.config)).toThrow(expect.objectContaining({ exitCode: ExitCode.config }));
  });

  it('withDefaultTag refuses a name outside the grammar', () => {
    expect(() => withDefaultTag('Upper/App')).toThrow(/lowercase/);
    expect(withDefaultTag('localhost:5000/app')).toBe('localhost:5000/app:latest');
  });
});
