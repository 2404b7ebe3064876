/** Resolves after `ms`; the timer never keeps the process alive. */
export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());
