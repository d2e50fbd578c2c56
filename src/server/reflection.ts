import type { CfgServer } from './cfg-server.ts';

export async function addReflectionService(_server: CfgServer, _generatedDir: string): Promise<void> {}
