/** The outbox id a message carries in its footer (`ref \`…\``), or '' if none. */
export function refOf(body: { blocks?: unknown }): string {
  return /ref `([^`]+)`/.exec(JSON.stringify(body.blocks ?? []))?.[1] ?? '';
}
