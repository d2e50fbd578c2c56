import type { CfgServer } from './cfg-server.ts';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

export interface HealthHandle {
  set(service: string, status: ServingStatus): void;
  setAll(status: ServingStatus): void;
}

export function addHealthService(_server: CfgServer): HealthHandle {
  return { set() {}, setAll() {} };
}
