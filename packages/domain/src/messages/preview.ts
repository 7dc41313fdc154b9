/** What a session list shows for a message: the text, or a placeholder for anything else. */
export function previewOf(type: number, content: string): string {
  return type === 0 ? content : "[多媒体消息]";
}
