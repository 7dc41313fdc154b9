/** What a session list shows for a message: the text, or a placeholder for anything else. */
export function previewOf(type: number, content: string): string {
  return type === 0 ? content : "[多媒体消息]";
}

/**
 * The text shown in place of a recalled message: the session preview when it was the last one,
 * and the legacy history's `content` (legacy-contract D31, D32).
 */
export const RECALLED_PREVIEW = "[消息已撤回]";
