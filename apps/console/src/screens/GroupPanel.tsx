import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorText } from "../api";
import { useConsole } from "../context";
import { formatTime } from "../format";
import { keys, useFriends, useGroupInfo, useGroupMembers } from "../queries";
import { navigate } from "../router";

const STATUS = ["normal", "disabled", "dismissed"];

/**
 * Group info and members with their roles; the owner's tools (appoint and revoke admins, transfer,
 * dismiss), the tools the owner and admins share (remove and mute ordinary members, mute-all),
 * invite; leave.
 */
export function GroupPanel({ groupId }: { groupId: string }) {
  const { api, me, store } = useConsole();
  const queryClient = useQueryClient();
  const info = useGroupInfo(groupId);
  const members = useGroupMembers(groupId);
  const friends = useFriends();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<"leave" | "dismiss" | null>(null);
  const [invitees, setInvitees] = useState<string[]>([]);

  const isOwner = info.data?.ownerId === me.uuid;
  const isAdmin = members.data?.some((m) => m.userId === me.uuid && m.role === "admin") ?? false;
  /** The owner acts on everyone else; an admin on ordinary members only. */
  const mayModerate = (role: string) => isOwner || (isAdmin && role === "member");
  const memberIds = new Set(members.data?.map((m) => m.userId));
  const invitable = friends.data?.filter((f) => !memberIds.has(f.userId)) ?? [];

  /** Runs one action; refusals show the server's reason. */
  const run = async (done: string, action: () => Promise<unknown>, after?: () => void) => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      await action();
      setResult(done);
      after?.();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
      setConfirm(null);
      void queryClient.invalidateQueries({ queryKey: keys.group(groupId) });
      void queryClient.invalidateQueries({ queryKey: keys.sessions });
    }
  };

  const g = info.data;
  return (
    <aside className="panel group-panel" data-testid="group-panel">
      <h3>Group</h3>
      {info.error && <p className="error">{errorText(info.error)}</p>}
      {g && (
        <dl className="group-info">
          <dt>Name</dt>
          <dd data-testid="group-name">{g.name}</dd>
          <dt>Id</dt>
          <dd>
            <code data-testid="group-id">{g.uuid}</code>
          </dd>
          <dt>Notice</dt>
          <dd>{g.notice || "—"}</dd>
          <dt>Members</dt>
          <dd data-testid="group-member-count">{g.memberCnt}</dd>
          <dt>Joining</dt>
          <dd>{g.addMode === 1 ? "the owner or an admin approves requests" : "open"}</dd>
          <dt>Status</dt>
          <dd data-testid="group-status">{STATUS[g.status] ?? g.status}</dd>
          <dt>Mute-all</dt>
          <dd data-testid="group-mute-all">{g.muteAll ? "on: only the owner and admins may send" : "off"}</dd>
          <dt>Created</dt>
          <dd>{formatTime(g.createdAt)}</dd>
        </dl>
      )}

      {g && (isOwner || isAdmin) && (
        <div className="mute-all">
          <button
            type="button"
            data-testid="mute-all-toggle"
            disabled={busy}
            onClick={() =>
              void run(g.muteAll ? "Mute-all off" : "Mute-all on", () => api.groups.setMuteAll.mutate({ groupId, muted: !g.muteAll }))
            }
          >
            {g.muteAll ? "Turn mute-all off" : "Mute everyone"}
          </button>
        </div>
      )}

      <h4>Members</h4>
      {members.error && <p className="error">{errorText(members.error)}</p>}
      <ul className="members">
        {members.data?.map((m) => (
          <li key={m.userId} data-testid="group-member" data-user-id={m.userId} data-role={m.role}>
            <span>
              {m.nickname || m.username}
              {m.role !== "member" && (
                <span className="tag" data-testid="member-role">
                  {m.role}
                </span>
              )}
              {m.muted && <span className="tag warn">muted</span>}
              {m.userId === me.uuid && <span className="tag">me</span>}
            </span>
            {m.userId !== me.uuid && mayModerate(m.role) && (
              <span className="actions">
                {/* An admin is never muted: a muted member is unmuted before being appointed. */}
                {isOwner && !m.muted && (
                  <button
                    type="button"
                    data-testid="member-admin-toggle"
                    disabled={busy}
                    onClick={() =>
                      void run(m.role === "admin" ? "Admin revoked" : "Admin appointed", () =>
                        api.groups.setAdmin.mutate({ groupId, userId: m.userId, admin: m.role !== "admin" }),
                      )
                    }
                  >
                    {m.role === "admin" ? "Revoke admin" : "Make admin"}
                  </button>
                )}
                {m.role === "member" && (
                  <button
                    type="button"
                    data-testid="member-mute-toggle"
                    disabled={busy}
                    onClick={() =>
                      void run(m.muted ? "Unmuted" : "Muted", () => api.groups.setMuted.mutate({ groupId, userId: m.userId, muted: !m.muted }))
                    }
                  >
                    {m.muted ? "Unmute" : "Mute"}
                  </button>
                )}
                <button
                  type="button"
                  data-testid="member-remove"
                  disabled={busy}
                  onClick={() => void run("Removed", () => api.groups.removeMembers.mutate({ groupId, memberIds: [m.userId] }))}
                >
                  Remove
                </button>
                {isOwner && (
                  <button
                    type="button"
                    data-testid="member-transfer"
                    disabled={busy}
                    onClick={() => void run("Ownership transferred", () => api.groups.transferOwnership.mutate({ groupId, newOwnerId: m.userId }))}
                  >
                    Make owner
                  </button>
                )}
              </span>
            )}
          </li>
        ))}
      </ul>

      <h4>Invite friends</h4>
      {invitable.length === 0 ? (
        <p className="muted">Every friend is already here.</p>
      ) : (
        <div className="invite">
          {invitable.map((f) => (
            <label key={f.userId} className="check" data-testid="invite-option" data-user-id={f.userId}>
              <input
                type="checkbox"
                checked={invitees.includes(f.userId)}
                onChange={(e) => setInvitees((list) => (e.target.checked ? [...list, f.userId] : list.filter((id) => id !== f.userId)))}
              />
              {f.name}
            </label>
          ))}
          <button
            type="button"
            data-testid="group-invite-submit"
            disabled={busy || invitees.length === 0}
            onClick={() =>
              void run(
                "Invited",
                () => api.groups.invite.mutate({ groupId, memberIds: invitees }),
                () => setInvitees([]),
              )
            }
          >
            Invite
          </button>
        </div>
      )}

      <div className="danger-zone">
        {!isOwner &&
          (confirm === "leave" ? (
            <button
              type="button"
              className="danger"
              data-testid="group-leave-confirm"
              disabled={busy}
              onClick={() =>
                void run(
                  "Left the group",
                  () => api.groups.leave.mutate({ groupId }),
                  () => {
                    store.setNotice(groupId, "你已退出该群聊");
                    navigate("/");
                  },
                )
              }
            >
              Really leave?
            </button>
          ) : (
            <button type="button" data-testid="group-leave" disabled={busy} onClick={() => setConfirm("leave")}>
              Leave group
            </button>
          ))}
        {isOwner &&
          (confirm === "dismiss" ? (
            <button
              type="button"
              className="danger"
              data-testid="group-dismiss-confirm"
              disabled={busy}
              onClick={() => void run("Group dismissed", () => api.groups.dismiss.mutate({ groupId }))}
            >
              Really dismiss?
            </button>
          ) : (
            <button type="button" data-testid="group-dismiss" disabled={busy} onClick={() => setConfirm("dismiss")}>
              Dismiss group
            </button>
          ))}
      </div>
      {result && (
        <p className="ok" data-testid="group-panel-result">
          {result}
        </p>
      )}
      {error && (
        <p className="error" role="alert" data-testid="group-panel-error">
          {error}
        </p>
      )}
    </aside>
  );
}
