// Shared by the generate-proto test files: sample protos and a bare project to run cfg in.
import assert from 'node:assert/strict';
import { readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after } from 'node:test';
import { configText, Project, REPO, tempDir } from '../fixtures/project.ts';

export const CLOCK = `syntax = "proto3";

package clock.v1;

import "google/protobuf/empty.proto";
import "google/protobuf/timestamp.proto";

// Tells the time.
service Clock {
  rpc Now(google.protobuf.Empty) returns (Tick);
  rpc Ticks(TickRequest) returns (stream Tick);
}

message TickRequest {
  int32 count = 1;
}

message Tick {
  google.protobuf.Timestamp at = 1;
  int64 seq = 2;
  oneof source {
    string zone = 3;
    int32 offset_minutes = 4;
  }
}
`;

export const GREETER = `syntax = "proto3";

package greet;

service Greeter {
  rpc Hello(HelloRequest) returns (HelloReply);
}

message HelloRequest {
  string name = 1;
}

message HelloReply {
  string message = 1;
}
`;

const projects: Project[] = [];
after(async () => {
  for (const p of projects) await p.remove();
});

/** A bare project: package.json, node_modules, an empty cfg.config.ts (unless given), the given files. */
export async function project(files: Record<string, string>): Promise<Project> {
  const p = new Project(await tempDir('cfg-gen-'));
  projects.push(p);
  await writeFile(p.path('package.json'), '{ "type": "module", "private": true }\n');
  await symlink(join(REPO, 'node_modules'), p.path('node_modules'), 'dir');
  for (const [path, text] of Object.entries({ 'cfg.config.ts': configText({}), ...files })) await p.write(path, text);
  return p;
}

/** Every file under `dir` (relative path -> bytes), or an empty map if it does not exist. */
export async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else out.set(relative(dir, path), await readFile(path));
    }
  };
  await walk(dir);
  return out;
}

export function assertSameFiles(actual: Map<string, Buffer>, expected: Map<string, Buffer>): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [path, bytes] of expected) assert.ok(actual.get(path)!.equals(bytes), `${path} differs`);
}
