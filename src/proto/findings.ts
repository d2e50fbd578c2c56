import { relative, resolve, sep } from 'node:path';
import { CfgError } from '../errors.ts';
import { BUF_FINDINGS, bufFailure, type BufRun } from './buf-run.ts';

/** One problem buf found in a .proto: where, which rule, what. */
export interface Finding {
  /** The file, relative to the directory the finding is shown from ("proto/notes.proto"). */
  path: string;
  line: number;
  column: number;
  /** buf's rule id ("FIELD_LOWER_SNAKE_CASE", "RPC_NO_DELETE"), or COMPILE for a file buf cannot parse. */
  rule: string;
  message: string;
}

interface BufAnnotation {
  path?: string;
  start_line?: number;
  start_column?: number;
  type?: string;
  message?: string;
}

/**
 * The findings of a `buf lint|breaking --error-format json` run: none on exit 0, buf's JSON lines
 * on exit 100. Any other exit is buf failing (a bad buf.yaml, an unreadable input): E_BUF with
 * buf's own words. Paths are made relative to `shownFrom` (buf reports them relative to `bufCwd`);
 * a finding about a whole package has no file and is shown at the proto dir (`input`).
 */
export function parseFindings(run: BufRun, where: { bufCwd: string; shownFrom: string; input: string; command: string }): Finding[] {
  if (run.code === 0) return [];
  if (run.code !== BUF_FINDINGS) {
    throw new CfgError(
      'E_BUF',
      `${where.command} failed: ${bufFailure(run)}`,
      'Fix what buf names (a buf.yaml whose modules do not list the proto dir, a path that does not exist), then run it again.',
    );
  }
  const findings: Finding[] = [];
  for (const line of run.stdout.split('\n')) {
    if (line.trim() === '') continue;
    let a: BufAnnotation;
    try {
      a = JSON.parse(line) as BufAnnotation;
    } catch {
      throw new CfgError(
        'E_BUF',
        `${where.command}: unexpected output from buf: ${line.slice(0, 200)}`,
        'Run npm install to get the buf version cfg pins (@bufbuild/buf in package.json).',
      );
    }
    const path =
      relative(where.shownFrom, resolve(where.bufCwd, a.path ?? where.input))
        .split(sep)
        .join('/') || '.';
    findings.push({ path, line: a.start_line ?? 1, column: a.start_column ?? 1, rule: a.type ?? 'UNKNOWN', message: a.message ?? '' });
  }
  if (findings.length === 0)
    throw new CfgError('E_BUF', `${where.command} failed: ${bufFailure(run)}`, 'Fix what buf names, then run it again.');
  return findings;
}

/** "proto/notes.proto:3:1: Field name "Bad" should be lower_snake_case. (FIELD_LOWER_SNAKE_CASE)" */
export function formatFinding(f: Finding): string {
  return `${f.path}:${f.line}:${f.column}: ${f.message} (${f.rule})`;
}
