export function canAptInstall(): boolean;
export function aptInstall(tag: string, pkg: string): boolean;
