// @bufbuild/protobuf, for cfg: import its values from here, not from '@bufbuild/protobuf', so that
// there is one copy of it. It is loaded with require(), as its CommonJS build: under bin/cfg.js,
// tsx's loader hooks see every ES module imported, and the ES build of the package, its wire
// format and its well-known types is ~60 of them (~125 ms of start-up, against ~50 ms for the
// CommonJS build, whose files the hooks do not see; config/zod.ts does the same for zod). Types
// come from the package itself: `import type { DescMessage } from '@bufbuild/protobuf'`.
import { createRequire } from 'node:module';
import type * as Codegen from '@bufbuild/protobuf/codegenv2';
import type * as Protobuf from '@bufbuild/protobuf';
import type * as Wire from '@bufbuild/protobuf/wire';
import type * as Wkt from '@bufbuild/protobuf/wkt';

const require = createRequire(import.meta.url);

/** '@bufbuild/protobuf': create, fromBinary, toBinary, registries, JSON. */
export const protobuf = require('@bufbuild/protobuf') as typeof Protobuf;
/** '@bufbuild/protobuf/wire': the binary reader and writer. */
export const wire = require('@bufbuild/protobuf/wire') as typeof Wire;
/** '@bufbuild/protobuf/wkt': the well-known types, descriptor.proto's messages among them. */
export const wkt = require('@bufbuild/protobuf/wkt') as typeof Wkt;
/** '@bufbuild/protobuf/codegenv2', loaded when first asked for (only `cfg describe` needs it). */
export const codegen = (): typeof Codegen => require('@bufbuild/protobuf/codegenv2') as typeof Codegen;
