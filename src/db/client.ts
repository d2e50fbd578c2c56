export async function closeDb(): Promise<void> {}
