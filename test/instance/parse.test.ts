import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseContext, ContextError, type Context } from '../../agents/instance/context/index.js';

const plain = (c: Context) => Object.fromEntries([...c.sections].map(([k, v]) => [k, Object.fromEntries(v)]));

// Golden cases: input text -> expected preamble, plugins and sections.
const golden: {
  name: string;
  text: string;
  preamble: string;
  plugins: string[];
  listed: boolean;
  sections: Record<string, Record<string, string>>;
}[] = [
  {
    name: 'preamble with odd characters never parses',
    text: [
      '#!/bin/sh',
      'echo "[users]" key = value; [ -f /etc/x ] && echo ok',
      "X='a=b' ; echo ${X} [brackets] 'quoted [section]'",
      '  [indented] = nothing',
      '[amiconfig]',
      'plugins = users',
      '[users]',
      'alice = uid:1001',
    ].join('\n'),
    preamble:
      "#!/bin/sh\necho \"[users]\" key = value; [ -f /etc/x ] && echo ok\nX='a=b' ; echo ${X} [brackets] 'quoted [section]'\n  [indented] = nothing",
    plugins: ['users'],
    listed: true,
    sections: { amiconfig: { plugins: 'users' }, users: { alice: 'uid:1001' } },
  },
  {
    name: 'case-insensitive sections, plugins split by spaces and commas, CRLF, comments',
    text: '[AmiConfig]\r\nplugins = Files,  Scripts environment\r\n; comment\r\n# comment\r\n[FILES] # trailing\r\n/etc/a = mode:0600\r\n[Environment]\r\nHome_Dir = /x\r\n',
    preamble: '',
    plugins: ['files', 'scripts', 'environment'],
    listed: true,
    sections: {
      amiconfig: { plugins: 'Files,  Scripts environment' },
      files: { '/etc/a': 'mode:0600' },
      environment: { Home_Dir: '/x' },
    },
  },
  {
    name: 'continuation lines: dedent, inner blank lines, indented comments kept, trailing blanks dropped',
    text: [
      '[scripts]',
      'before =',
      '    #!/bin/sh',
      '    if true; then',
      '      echo "a = b"',
      '',
      '    fi',
      '# a real comment does not end the value',
      '    echo done',
      '',
      '',
      'after = echo one',
      '\techo two',
    ].join('\n'),
    preamble: '',
    plugins: ['scripts'],
    listed: false,
    sections: {
      scripts: { before: '\n#!/bin/sh\nif true; then\n  echo "a = b"\n\nfi\necho done', after: 'echo one\necho two' },
    },
  },
  {
    name: 'no plugins= : every non-reserved section, plus scripts when the preamble has commands',
    text: 'touch /tmp/x\n[cloudgate]\njid = vm@example.org\n[hostname]\nname = a\n[cernvm]\nx = 1\n',
    preamble: 'touch /tmp/x',
    plugins: ['hostname', 'cernvm', 'scripts'],
    listed: false,
    sections: { cloudgate: { jid: 'vm@example.org' }, hostname: { name: 'a' }, cernvm: { x: '1' } },
  },
];

for (const g of golden) {
  test(`parse golden: ${g.name}`, () => {
    const c = parseContext(g.text);
    assert.equal(c.preamble, g.preamble);
    assert.deepEqual(c.plugins, g.plugins);
    assert.equal(c.pluginsListed, g.listed);
    assert.deepEqual(plain(c), g.sections);
    assert.equal(c.raw, g.text);
  });
}

test('positions name header and key lines', () => {
  const c = parseContext('x=1\n[users]\n\nalice = \n  more\nbob =\n');
  assert.equal(c.positions.get('users')?.line, 2);
  assert.equal(c.positions.get('users')?.keys.get('alice'), 4);
  assert.equal(c.positions.get('users')?.keys.get('bob'), 6);
});

// Error cases: text -> code, line, section, key.
const errors: { name: string; text: string; code: string; line?: number; section?: string; key?: string }[] = [
  {
    name: 'duplicate key',
    text: '[users]\nalice = a\nbob = b\nalice = c\n',
    code: 'CG_CONTEXT_DUPLICATE',
    line: 4,
    section: 'users',
    key: 'alice',
  },
  {
    name: 'duplicate section (case-insensitive)',
    text: '[users]\na = 1\n[USERS]\n',
    code: 'CG_CONTEXT_DUPLICATE',
    line: 3,
    section: 'users',
  },
  {
    name: 'key without =',
    text: '[files]\n/etc/a = x\njust words\n',
    code: 'CG_CONTEXT_SYNTAX',
    line: 3,
    section: 'files',
  },
  { name: 'empty key', text: '[files]\n = x\n', code: 'CG_CONTEXT_SYNTAX', line: 2, section: 'files' },
  {
    name: 'stray continuation',
    text: '[files]\n   orphan line\n',
    code: 'CG_CONTEXT_SYNTAX',
    line: 2,
    section: 'files',
  },
  {
    name: 'malformed header after sections',
    text: '[files]\n[my section]\n',
    code: 'CG_CONTEXT_SYNTAX',
    line: 2,
    section: 'files',
  },
  {
    name: 'plugin listed twice',
    text: '[amiconfig]\n\nplugins = users files users\n',
    code: 'CG_CONTEXT_DUPLICATE',
    line: 3,
    section: 'amiconfig',
    key: 'plugins',
  },
  {
    name: 'reserved section as plugin',
    text: '[amiconfig]\nplugins = cloudgate\n',
    code: 'CG_CONTEXT_INVALID',
    line: 2,
    section: 'amiconfig',
    key: 'plugins',
  },
  { name: 'no section at all', text: '#cloud-config\npackages: [git]\n', code: 'CG_CONTEXT_SYNTAX' },
];

for (const e of errors) {
  test(`parse error: ${e.name}`, () => {
    assert.throws(
      () => parseContext(e.text),
      (err: unknown) => {
        assert.ok(err instanceof ContextError);
        assert.equal(err.code, e.code);
        assert.equal(err.line, e.line);
        assert.equal(err.section, e.section);
        assert.equal(err.key, e.key);
        if (e.line !== undefined) assert.match(err.message, new RegExp(`^line ${e.line}`));
        if (e.key !== undefined) assert.match(err.message, new RegExp(`key "${e.key}"`));
        return true;
      },
    );
  });
}
