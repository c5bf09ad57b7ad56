// The older Amazon dumps (meta_*.json, some reviews_*.json) hold one Python dict literal per line
// ({'asin': 'B00..', 'categories': [['Beauty']], 'price': 12.5, ...}), not JSON. This parses the subset
// they use: dicts, lists, tuples, str (single, double or triple quotes, escapes), int, float, True,
// False, None. A line is tried as JSON first (faster), then as a Python literal.

class PyParser {
  private i = 0;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw new Error(`${what} at column ${this.i + 1}`);
  }

  private space(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  parseAll(): unknown {
    const v = this.value();
    this.space();
    if (this.i < this.s.length) this.fail(`unexpected "${this.s[this.i]}" after the value`);
    return v;
  }

  private value(): unknown {
    this.space();
    const c = this.s[this.i];
    if (c === '{') return this.dict();
    if (c === '[') return this.seq('[', ']');
    if (c === '(') return this.seq('(', ')');
    if (c === "'" || c === '"') return this.str();
    if (c === 'u' || c === 'b' || c === 'r') {
      const q = this.s[this.i + 1];
      if (q === "'" || q === '"') {
        const raw = c === 'r';
        this.i++;
        return this.str(raw);
      }
    }
    for (const [word, v] of [['True', true], ['False', false], ['None', null], ['nan', NaN], ['inf', Infinity]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    const m = /^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)L?/.exec(this.s.slice(this.i, this.i + 64));
    if (m) {
      this.i += m[0].length;
      return Number(m[0].replace(/L$/, ''));
    }
    return this.fail(c === undefined ? 'unexpected end of line' : `unexpected "${c}"`);
  }

  private dict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.i++;
    for (;;) {
      this.space();
      if (this.s[this.i] === '}') { this.i++; return out; }
      const key = this.value();
      this.space();
      if (this.s[this.i] !== ':') this.fail('expected ":"');
      this.i++;
      out[String(key)] = this.value();
      this.space();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.fail('expected "," or "}"');
    }
  }

  private seq(open: string, close: string): unknown[] {
    const out: unknown[] = [];
    this.i++;
    for (;;) {
      this.space();
      if (this.s[this.i] === close) { this.i++; return out; }
      out.push(this.value());
      this.space();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) this.fail(`expected "," or "${close}"`);
    }
  }

  private str(raw = false): string {
    const q = this.s[this.i];
    const triple = this.s.startsWith(q.repeat(3), this.i);
    const end = triple ? q.repeat(3) : q;
    this.i += end.length;
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) this.fail('unterminated string');
      if (this.s.startsWith(end, this.i)) { this.i += end.length; return out; }
      const c = this.s[this.i++];
      if (c !== '\\' || raw) { out += c; continue; }
      const e = this.s[this.i++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '0': out += '\0'; break;
        case 'x': out += String.fromCharCode(parseInt(this.hex(2), 16)); break;
        case 'u': out += String.fromCharCode(parseInt(this.hex(4), 16)); break;
        case 'U': out += String.fromCodePoint(parseInt(this.hex(8), 16)); break;
        case '\n': break;
        default: out += e; // \\ \' \" and unknown escapes keep the character
      }
    }
  }

  private hex(n: number): string {
    const h = this.s.slice(this.i, this.i + n);
    if (!/^[0-9a-fA-F]+$/.test(h) || h.length !== n) this.fail(`bad \\x/\\u escape "${h}"`);
    this.i += n;
    return h;
  }
}

/** Parses one line that is JSON or a Python literal; throws with the column of the problem. */
export function parseJsonOrPython(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return new PyParser(line).parseAll();
  }
}
