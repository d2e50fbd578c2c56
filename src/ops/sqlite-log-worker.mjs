// The request log's SQLite writer thread (plain JavaScript: a worker does not inherit the tsx
// loader). It owns one better-sqlite3 connection and inserts each batch it is sent in one
// transaction, so that the server's own thread never runs the INSERTs.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

let db;
let insertAll;
try {
  db = new Database(workerData.file, { timeout: 5000, fileMustExist: true });
  const stmt = db.prepare(workerData.sql);
  insertAll = db.transaction((rows) => {
    for (const row of rows) stmt.run(row);
  });
  parentPort.postMessage({ ready: true });
} catch (err) {
  parentPort.postMessage({ ready: false, error: String(err?.message ? err.message : err) });
}

parentPort.on('message', (msg) => {
  if (msg.close) {
    db?.close();
    parentPort.postMessage({ closed: true });
    return;
  }
  try {
    insertAll(msg.rows);
    parentPort.postMessage({ id: msg.id });
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: String(err?.message ? err.message : err) });
  }
});
