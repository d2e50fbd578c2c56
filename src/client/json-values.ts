/**
 * Splits a stream of text into its top-level JSON values as they complete: newline-delimited
 * JSON, or pretty-printed objects one after another. Each value is yielded as its text (parsed
 * later, against the message type); a value is yielded as soon as its last character arrives, so
 * a bidi call reading a terminal sends each line when it is typed.
 */
export async function* jsonValues(chunks: AsyncIterable<string | Buffer> | Iterable<string>): AsyncGenerator<string> {
  let text = '';
  let start = -1; // where the current value began, -1 between values
  let depth = 0;
  let inString = false;
  let escaped = false;
  let scalar = false; // a number, true, false or null: ends at whitespace or the end of input
  let pos = 0;
  for await (const chunk of chunks) {
    text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    for (; pos < text.length; pos++) {
      const c = text[pos]!;
      if (start < 0) {
        if (/\s/.test(c)) continue;
        start = pos;
        depth = 0;
        scalar = !'{["'.includes(c);
        if (c === '"') inString = true;
        else if (!scalar) depth = 1;
        continue;
      }
      if (scalar) {
        if (!/[\s{["]/.test(c)) continue;
        yield text.slice(start, pos);
        start = -1;
        pos--;
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') {
          inString = false;
          if (depth === 0) {
            yield text.slice(start, pos + 1);
            start = -1;
          }
        }
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (--depth === 0) {
          yield text.slice(start, pos + 1);
          start = -1;
        }
      }
    }
    // Keep only the unfinished value.
    const keep = start < 0 ? text.length : start;
    text = text.slice(keep);
    pos -= keep;
    if (start >= 0) start = 0;
  }
  // What is left is incomplete (or a trailing scalar): handed on as it is, for the parser to judge.
  if (start >= 0 && text.trim() !== '') yield text.slice(start);
}
