// The Prisma client type in cfg's published declarations (package.json "imports": "#prisma-client").
// cfg cannot know a project's models, so `Db` is the client the project names in ProjectTypes
// (cfg startproject writes that into cfg-env.d.ts); `any` until it does. In cfg's own repository
// tsconfig.json maps "#prisma-client" to the repository's generated client instead.
import type { ProjectTypes } from './client.ts';

// biome-ignore lint/suspicious/noExplicitAny: a project that names no client gets an untyped one
export type PrismaClient = ProjectTypes extends { prismaClient: infer C } ? C : any;
