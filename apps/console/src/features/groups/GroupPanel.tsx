import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatTime } from "../../format";
import { navigate } from "../../router";
import { errorText, useTRPC } from "../../trpc";
import { useMe } from "../auth/me";
import { useFriends } from "../contacts/queries";
import { useGroupInfo, useGroupMembers, useGroupPresence } from "./queries";

const STATUS = ["normal", "disabled", "dismissed"];

type Action = "muteAll" | "admin" | "mute" | "remove" | "transfer" | "invite" | "leave" | "dismiss";

/**
 * Group info and members with their roles; the owner's tools (appoint and revoke admins, transfer,
 * dismiss), the tools the owner and admins share (remove and mute ordinary members, mute-all),
 * invite; leave. The result or refusal of the last action is shown under the panel.
 */
export function GroupPanel({ groupId }: { groupId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { user: me } = useMe();
  const info = useGroupInfo(groupId);
  const members = useGroupMembers(groupId);
  const friends = useFriends();
  const presence = useGroupPresence(groupId);
  const online = new Set(presence.data?.online);
  const [confirm, setConfirm] = useState<"leave" | "dismiss" | null>(null);
  const [invitees, setInvitees] = useState<string[]>([]);
  const [last, setLast] = useState<Action | null>(null);

  // The events of each change refresh every member's view (features/live); the actor's own view
  // is refreshed at once.
  const refresh = () => {
    setConfirm(null);
    for (const queryKey of [trpc.groups.info.queryKey({ groupId }), trpc.groups.members.queryKey({ groupId }), trpc.sessions.list.queryKey()]) {
      void queryClient.invalidateQueries({ queryKey });
    }
  };
  const options = { onSettled: refresh };
  const actions = {
    muteAll: useMutation(trpc.groups.setMuteAll.mutationOptions(options)),
    admin: useMutation(trpc.groups.setAdmin.mutationOptions(options)),
    mute: useMutation(trpc.groups.setMuted.mutationOptions(options)),
    remove: useMutation(trpc.groups.removeMembers.mutationOptions(options)),
    transfer: useMutation(trpc.groups.transferOwnership.mutationOptions(options)),
    invite: useMutation(trpc.groups.invite.mutationOptions({ ...options, onSuccess: () => setInvitees([]) })),
    leave: useMutation(trpc.groups.leave.mutationOptions({ ...options, onSuccess: () => navigate("/") })),
    dismiss: useMutation(trpc.groups.dismiss.mutationOptions(options)),
  };
  const busy = Object.values(actions).some((action) => action.isPending);
  /** Starts an action; its outcome replaces the last one's under the panel. */
  const act = (action: Action, run: () => void) => {
    setLast(action);
    run();
  };

  /** What the last action did, in words. */
  const done = (): string | null => {
    switch (last) {
      case "muteAll":
        return actions.muteAll.variables?.muted ? "Mute-all on" : "Mute-all off";
      case "admin":
        return actions.admin.variables?.admin ? "Admin appointed" : "Admin revoked";
      case "mute":
        return actions.mute.variables?.muted ? "Muted" : "Unmuted";
      case "remove":
        return "Removed";
      case "transfer":
        return "Ownership transferred";
      case "invite":
        return "Invited";
      case "leave":
        return "Left the group";
      case "dismiss":
        return "Group dismissed";
      case null:
        return null;
    }
  };
  const outcome = last ? actions[last] : null;

  const isOwner = info.data?.ownerId === me.uuid;
  const isAdmin = members.data?.some((m) => m.userId === me.uuid && m.role === "admin") ?? false;
  /** The owner acts on everyone else; an admin on ordinary members only. */
  const mayModerate = (role: string) => isOwner || (isAdmin && role === "member");
  const memberIds = new Set(members.data?.map((m) => m.userId));
  const invitable = friends.data?.filter((f) => !memberIds.has(f.userId)) ?? [];

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
          <button type="button" data-testid="mute-all-toggle" disabled={busy} onClick={() => act("muteAll", () => actions.muteAll.mutate({ groupId, muted: !g.muteAll }))}>
            {g.muteAll ? "Turn mute-all off" : "Mute everyone"}
          </button>
        </div>
      )}

      <h4>Members</h4>
      <p className="muted" data-testid="group-online">
        Online now:{" "}
        {members.data
          ?.filter((m) => online.has(m.userId))
          .map((m) => m.nickname || m.username)
          .join(", ") || "nobody"}
      </p>
      {members.error && <p className="error">{errorText(members.error)}</p>}
      <ul className="members">
        {members.data?.map((m) => (
          <li
            key={m.userId}
            data-testid="group-member"
            data-user-id={m.userId}
            data-role={m.role}
            data-online={online.has(m.userId) ? "true" : "false"}
          >
            <span>
              <span className={online.has(m.userId) ? "dot online" : "dot"} title={online.has(m.userId) ? "online" : "offline"} data-testid="member-online-dot" />
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
                    onClick={() => act("admin", () => actions.admin.mutate({ groupId, userId: m.userId, admin: m.role !== "admin" }))}
                  >
                    {m.role === "admin" ? "Revoke admin" : "Make admin"}
                  </button>
                )}
                {m.role === "member" && (
                  <button
                    type="button"
                    data-testid="member-mute-toggle"
                    disabled={busy}
                    onClick={() => act("mute", () => actions.mute.mutate({ groupId, userId: m.userId, muted: !m.muted }))}
                  >
                    {m.muted ? "Unmute" : "Mute"}
                  </button>
                )}
                <button
                  type="button"
                  data-testid="member-remove"
                  disabled={busy}
                  onClick={() => act("remove", () => actions.remove.mutate({ groupId, memberIds: [m.userId] }))}
                >
                  Remove
                </button>
                {isOwner && (
                  <button
                    type="button"
                    data-testid="member-transfer"
                    disabled={busy}
                    onClick={() => act("transfer", () => actions.transfer.mutate({ groupId, newOwnerId: m.userId }))}
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
            onClick={() => act("invite", () => actions.invite.mutate({ groupId, memberIds: invitees }))}
          >
            Invite
          </button>
        </div>
      )}

      <div className="danger-zone">
        {!isOwner &&
          (confirm === "leave" ? (
            <button type="button" className="danger" data-testid="group-leave-confirm" disabled={busy} onClick={() => act("leave", () => actions.leave.mutate({ groupId }))}>
              Really leave?
            </button>
          ) : (
            <button type="button" data-testid="group-leave" disabled={busy} onClick={() => setConfirm("leave")}>
              Leave group
            </button>
          ))}
        {isOwner &&
          (confirm === "dismiss" ? (
            <button type="button" className="danger" data-testid="group-dismiss-confirm" disabled={busy} onClick={() => act("dismiss", () => actions.dismiss.mutate({ groupId }))}>
              Really dismiss?
            </button>
          ) : (
            <button type="button" data-testid="group-dismiss" disabled={busy} onClick={() => setConfirm("dismiss")}>
              Dismiss group
            </button>
          ))}
      </div>
      {outcome?.isSuccess && (
        <p className="ok" data-testid="group-panel-result">
          {done()}
        </p>
      )}
      {outcome?.error && (
        <p className="error" role="alert" data-testid="group-panel-error">
          {errorText(outcome.error)}
        </p>
      )}
    </aside>
  );
}
