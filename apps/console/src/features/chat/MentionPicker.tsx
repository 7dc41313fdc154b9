import { useState } from "react";
import { useMe } from "../auth/me";
import { useGroupMembers } from "../groups/queries";

/** Who the draft mentions: members by id, and @all. */
export interface Mentions {
  ids: string[];
  all: boolean;
}

/** "@" in a group: pick members to mention; @all for the owner and admins (the server decides). */
export function MentionPicker({
  groupId,
  onPick,
  picked,
  mayMentionAll,
}: {
  groupId: string;
  /** `id` null: @all. */
  onPick: (id: string | null, label: string) => void;
  picked: Mentions;
  mayMentionAll: boolean;
}) {
  const { user: me } = useMe();
  const [open, setOpen] = useState(false);
  const members = useGroupMembers(groupId);
  const count = picked.ids.length + (picked.all ? 1 : 0);
  return (
    <div className="mention-picker">
      <button type="button" data-testid="mention-toggle" onClick={() => setOpen((v) => !v)}>
        @ mention{count > 0 ? ` (${count})` : ""}
      </button>
      {open && (
        <ul className="mention-options" data-testid="mention-options">
          {mayMentionAll && (
            <li>
              <button type="button" data-testid="mention-all" onClick={() => onPick(null, "all")}>
                @all
              </button>
            </li>
          )}
          {members.data
            ?.filter((m) => m.userId !== me.uuid)
            .map((m) => (
              <li key={m.userId}>
                <button type="button" data-testid="mention-option" data-user-id={m.userId} onClick={() => onPick(m.userId, m.nickname || m.username)}>
                  @{m.nickname || m.username}
                </button>
              </li>
            ))}
        </ul>
      )}
    </div>
  );
}
