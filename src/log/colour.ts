/**
 * Whether to colour what goes to `stream`: never with NO_COLOR set (https://no-color.org) or
 * TERM=dumb; always with FORCE_COLOR set (not "0"); otherwise only on a terminal.
 */
export function colourFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR || env.TERM === 'dumb') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}
