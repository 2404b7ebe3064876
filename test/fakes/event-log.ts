/**
 * One ordered list that several recording fakes write to, so that a test can
 * assert the order of calls across ports (the hand-off before the observer).
 */
export interface EventLog {
  readonly events: string[];
  add(event: string): void;
}

export function createEventLog(): EventLog {
  const events: string[] = [];
  return { events, add: (event) => void events.push(event) };
}
