import type { GenerateOptions } from './generate.ts';

export async function watchProto(_options: GenerateOptions): Promise<void> {
  throw new Error('generate-proto --watch is not built yet');
}
