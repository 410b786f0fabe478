import type { SessionCommands } from './commands/index.js';

/**
 * "Log out everywhere", shared by `destroyAllForUser` and the inspector's `revokeUser`: the handles
 * are taken out of the user's index first, then each session is destroyed if still bound to the
 * user, following a regenerate's tombstone (see commands/index.ts for why this order keeps the
 * index complete). Returns the handles of the sessions that were live and ended.
 */
export async function destroyUserSessions(
  commands: SessionCommands,
  userId: string,
  exceptHandle: string | undefined,
): Promise<string[]> {
  const handles = await commands.index.take(userId, exceptHandle);
  const results = await Promise.all(handles.map((handle) => commands.destroy(handle, true, userId)));
  return handles.filter((_, i) => results[i]?.existed === true);
}
