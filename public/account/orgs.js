// Organizations on the account page: the switcher (the organization this session acts in),
// creating one, and for the active one its members (role, removal), invitations (send,
// withdraw) and roles, each shown only to a role that may use it. A mailed invitation
// (/accept-invitation?token=) is accepted here by the signed-in, verified invitee.
import { api, problem } from "/shared/api.js";
import { $, el, show, when } from "/shared/dom.js";

let refresh = async () => {};
let invitationToken = null;

export function setupOrgs(reload, mailedToken) {
  refresh = reload;
  if (location.pathname === "/accept-invitation" && mailedToken !== null) invitationToken = mailedToken;
  $("org-active").onchange = () => switchTo($("org-active").value);
  $("org-create").onsubmit = async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const result = await api("POST", "/api/v1/orgs", { name: form.elements.name.value });
    if (result.status !== 201) return show(`Could not create the organization: ${problem(result)}`, "error");
    form.reset();
    await switchTo(result.data.id, `Organization ${result.data.name} created`);
  };
  $("org-invite").onsubmit = async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const result = await api("POST", `/api/v1/orgs/${encodeURIComponent(form.dataset.org)}/invitations`, {
      email: form.elements.email.value,
      role: form.elements.role.value,
    });
    if (result.status !== 201) return show(`Could not invite: ${problem(result)}`, "error");
    form.reset();
    await refresh();
    show(`Invitation sent to ${result.data.email}`, "ok");
  };
  $("invitation-accept").onclick = acceptInvitation;
}

async function switchTo(orgId, done) {
  const result = await api("POST", "/api/v1/auth/active-org", { org_id: orgId === "" ? null : orgId });
  if (result.status !== 200) return show(`Could not switch: ${problem(result)}`, "error");
  await refresh();
  show(
    done ??
      (result.data.org === null
        ? "Acting for yourself"
        : `Acting in ${$("org-active").selectedOptions[0]?.textContent ?? "the organization"}`),
    "ok",
  );
}

/** `session`: check-auth's, whose `org` is the active organization with the role it gives now. */
export async function showOrgs(session) {
  $("invitation").hidden = invitationToken === null;
  const result = await api("GET", "/api/v1/orgs");
  const orgs = result.data?.items ?? [];
  const active = session.org;
  $("org-active").replaceChildren(
    el("option", { value: "" }, "Yourself (no organization)"),
    ...orgs.map((org) => el("option", { value: org.id, selected: active?.id === org.id }, `${org.name} (${org.role})`)),
  );
  $("orgs").replaceChildren(
    ...(orgs.length === 0
      ? [el("li", { class: "hint" }, "You belong to no organization")]
      : orgs.map((org) =>
          el(
            "li",
            { dataset: { orgId: org.id } },
            el("span", { class: "what" }, org.name),
            el("span", { class: "hint" }, `${org.slug} · ${org.role} · since ${when(org.created_at)}`),
            el("button", { type: "button", "aria-label": `Leave ${org.name}`, onclick: () => leave(org) }, "Leave"),
          ),
        )),
  );
  $("org-detail").hidden = active === null || active === undefined;
  if (active) await showActive(active);
}

const may = (active, permission) => {
  const [resource, action] = permission.split(":");
  if (active.role === "admin" && resource === "org" && action === "delete") return false;
  return active.permissions.some((held) => {
    const [r, a] = held.split(":");
    return (r === "*" || r === resource) && (a === "*" || a === action);
  });
};

async function showActive(active) {
  const base = `/api/v1/orgs/${encodeURIComponent(active.id)}`;
  const [members, invitations, roles] = await Promise.all([
    api("GET", `${base}/members?limit=100`),
    may(active, "members:invite") ? api("GET", `${base}/invitations`) : null,
    may(active, "roles:manage") ? api("GET", `${base}/roles`) : null,
  ]);
  const roleNames = (roles?.data?.items ?? [{ name: "owner" }, { name: "admin" }, { name: "member" }]).map((role) => role.name);
  $("org-members-title").textContent = `Members of ${active.slug}`;
  $("org-members").replaceChildren(...(members.data?.items ?? []).map((member) => memberItem(base, active, member, roleNames)));
  $("org-invite").hidden = invitations === null;
  $("org-invite").dataset.org = active.id;
  $("org-invite-role").replaceChildren(
    ...roleNames
      .filter((name) => name !== "owner" || active.role === "owner")
      .map((name) => el("option", { value: name, selected: name === "member" }, name)),
  );
  $("org-invitations-title").hidden = invitations === null;
  $("org-invitations").replaceChildren(
    ...(invitations?.data?.items ?? []).map((invitation) =>
      el(
        "li",
        {},
        el("span", { class: "what" }, invitation.email),
        el("span", { class: "hint" }, `${invitation.role} · until ${when(invitation.expires_at)}`),
        el(
          "button",
          {
            type: "button",
            "aria-label": `Withdraw the invitation of ${invitation.email}`,
            onclick: () => act("DELETE", `${base}/invitations/${invitation.id}`, "Invitation withdrawn"),
          },
          "Withdraw",
        ),
      ),
    ),
  );
  $("org-roles-title").hidden = roles === null;
  $("org-roles").replaceChildren(
    ...(roles?.data?.items ?? []).map((role) =>
      el(
        "li",
        {},
        el("span", { class: "what" }, role.name),
        el("span", { class: "hint" }, `${role.permissions.join(", ")}${role.builtin ? " · built in" : ""}`),
      ),
    ),
  );
}

function memberItem(base, active, member, roleNames) {
  const label = member.user.email ?? member.user.id;
  // Owners are changed and removed by owners only (the service refuses anyone else).
  const outranked = member.role === "owner" && active.role !== "owner";
  const canChange = may(active, "members:update") && !outranked;
  const select = el(
    "select",
    {
      "aria-label": `Role of ${label}`,
      disabled: !canChange,
      onchange: (event) =>
        act("PATCH", `${base}/members/${member.user.id}`, `${label} is now ${event.target.value}`, { role: event.target.value }),
    },
    ...roleNames.map((name) => el("option", { value: name, selected: name === member.role }, name)),
  );
  return el(
    "li",
    { dataset: { userId: member.user.id } },
    el("span", { class: "what" }, label),
    el("span", { class: "hint" }, `joined ${when(member.joined_at)}`),
    select,
    may(active, "members:delete") && !outranked
      ? el(
          "button",
          {
            type: "button",
            class: "danger",
            "aria-label": `Remove ${label}`,
            onclick: () => act("DELETE", `${base}/members/${member.user.id}`, `${label} removed`),
          },
          "Remove",
        )
      : null,
  );
}

async function act(method, path, done, body) {
  const result = await api(method, path, body);
  await refresh();
  const ok = result.status >= 200 && result.status < 300;
  show(ok ? done : `Could not change it: ${problem(result)}`, ok ? "ok" : "error");
}

async function leave(org) {
  const me = await api("GET", "/api/v1/users/me");
  await act("DELETE", `/api/v1/orgs/${encodeURIComponent(org.id)}/members/${encodeURIComponent(me.data.id)}`, `You left ${org.name}`);
}

async function acceptInvitation() {
  const result = await api("POST", "/api/v1/invitations/accept", { token: invitationToken });
  if (result.status !== 200) return show(`Could not accept: ${problem(result)}`, "error");
  invitationToken = null;
  await switchTo(result.data.id, `You joined ${result.data.name} as ${result.data.role}`);
}
