// A node:test reporter: after the run, each test file's time (the sum of its top-level tests and
// suites, which run one after another within a file; its before/after hooks are not counted),
// slowest first. `npm test` prints it to stderr, so that where the time goes is seen in every run.
export default async function* durations(source) {
  const files = new Map();
  const started = Date.now();
  for await (const event of source) {
    if ((event.type !== 'test:pass' && event.type !== 'test:fail') || event.data.nesting !== 0 || !event.data.file) continue;
    const entry = files.get(event.data.file) ?? { ms: 0, failed: 0 };
    entry.ms += event.data.details?.duration_ms ?? 0;
    if (event.type === 'test:fail') entry.failed++;
    files.set(event.data.file, entry);
  }
  const rows = [...files].map(([file, e]) => [file.replace(`${process.cwd()}/`, ''), e.ms / 1000, e.failed]).sort((a, b) => b[1] - a[1]);
  yield `\ntest files by time (${files.size} files; the run took ${((Date.now() - started) / 1000).toFixed(0)} s, 2 files at a time):\n`;
  for (const [file, s, failed] of rows) yield `  ${s.toFixed(1).padStart(6)} s  ${file}${failed ? `  (${failed} failed)` : ''}\n`;
}
