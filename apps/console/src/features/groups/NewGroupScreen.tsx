import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { navigate } from "../../router";
import { errorText, useTRPC } from "../../trpc";
import { useFriends } from "../contacts/queries";

/** Create a group with some of my friends. */
export function NewGroupScreen() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const friends = useFriends();
  const [name, setName] = useState("");
  const [notice, setNotice] = useState("");
  const [addMode, setAddMode] = useState<0 | 1>(1);
  const [picked, setPicked] = useState<string[]>([]);
  const create = useMutation(
    trpc.groups.create.mutationOptions({
      // The new session is listed before the chat opens (its title comes from there).
      onSuccess: async (group) => {
        await queryClient.invalidateQueries({ queryKey: trpc.sessions.list.queryKey() });
        navigate(`/chat/${group.uuid}`);
      },
    }),
  );

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name, notice, memberIds: picked, addMode });
  };

  return (
    <section className="panel" data-testid="new-group-screen">
      <h2>New group</h2>
      <form className="stack-form" onSubmit={submit}>
        <label>
          Name
          <input data-testid="group-name-input" value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label>
          Notice
          <input data-testid="group-notice-input" value={notice} onChange={(e) => setNotice(e.target.value)} />
        </label>
        <label>
          Joining
          <select data-testid="group-addmode" value={addMode} onChange={(e) => setAddMode(e.target.value === "0" ? 0 : 1)}>
            <option value={1}>requests need the owner&apos;s approval</option>
            <option value={0}>invites join directly</option>
          </select>
        </label>
        <fieldset>
          <legend>Members</legend>
          {friends.data?.length === 0 && <p className="muted">Add friends first, or create the group alone and share its id.</p>}
          {friends.data?.map((f) => (
            <label key={f.userId} className="check" data-testid="group-member-option" data-user-id={f.userId}>
              <input
                type="checkbox"
                checked={picked.includes(f.userId)}
                onChange={(e) => setPicked((list) => (e.target.checked ? [...list, f.userId] : list.filter((id) => id !== f.userId)))}
              />
              {f.name} <span className="muted">@{f.username}</span>
            </label>
          ))}
        </fieldset>
        {create.error && (
          <p className="error" role="alert" data-testid="new-group-error">
            {errorText(create.error)}
          </p>
        )}
        <button type="submit" className="primary" data-testid="group-create-submit" disabled={create.isPending}>
          Create group
        </button>
      </form>
    </section>
  );
}
