import type { RungrpcOptions } from '../commands/rungrpc.ts';

export async function runWithReload(_opts: RungrpcOptions): Promise<void> {
  throw new Error('rungrpc --reload is not built yet');
}
