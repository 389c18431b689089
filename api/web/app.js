// Waypoint's web page: a single page over the JSON API, no dependencies, no build step.
// All text from the API goes into the page through textContent (never innerHTML); the token
// lives in sessionStorage (this tab only) and goes out only in the Authorization header.
(function () {
  "use strict";

  const TOKEN_KEY = "waypoint.token";
  const FOUR_FIFTHS = 0.8;
  const PLAN_GAPS_SHOWN = 10;
  const FULL_TIME_HOURS = 35; // features.domain.FULL_TIME_HOURS
  const state = { token: null, me: null, self: null, renderId: 0 };

  // ---------- small DOM helpers (text only) ----------

  function $(id) {
    return document.getElementById(id);
  }

  // el("li", {className: "x", text: "..."}, child, ...): attributes are set one by one; data is
  // only ever text.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === "text") node.textContent = String(value);
      else if (key === "className") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "onclick") node.addEventListener("click", value);
      else node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function pct(value) {
    const v = Math.max(0, Math.min(1, Number(value) || 0));
    return Math.round(v * 100);
  }

  function fixed(value, digits) {
    return value === null || value === undefined ? "n/a" : Number(value).toFixed(digits);
  }

  function humanKind(kind) {
    return String(kind).replace(/_/g, " ");
  }

  // An opportunity's time commitment in plain words (null: not stated).
  function commitment(hours) {
    if (hours === null || hours === undefined) return null;
    if (hours >= FULL_TIME_HOURS) return "full time";
    if (hours < 1) return "under an hour a week";
    return "about " + String(Math.round(hours * 2) / 2) + " h a week";
  }

  // ---------- messages and errors ----------

  class ApiError extends Error {
    constructor(status, message, retryAfter) {
      super(message);
      this.status = status;
      this.retryAfter = retryAfter;
    }
  }

  function describe(error) {
    if (!(error instanceof ApiError)) {
      return "Could not reach the Waypoint API (" + (error && error.message ? error.message
        : "network error") + "). Check that the server is running, then reload the page.";
    }
    const detail = error.message ? ": " + error.message : "";
    switch (error.status) {
      case 401:
        return "You are not signed in, or your session has ended. Please sign in again.";
      case 403:
        return "Not allowed" + detail + ".";
      case 404:
        return "Not found" + detail + ".";
      case 422:
        return "The request was not valid" + detail + ".";
      case 429:
        return "Too many requests. Please wait " + (error.retryAfter || "a few") +
          " seconds and try again.";
      case 503:
        return "The service is not ready yet" + detail +
          ". The recommendation model may still be loading; try again in a moment.";
      default:
        return "Something went wrong (HTTP " + error.status + ")" + detail + ".";
    }
  }

  function showMessage(text, kind) {
    const box = $("message");
    box.textContent = text;
    box.className = "message " + (kind || "error");
    box.hidden = !text;
  }

  // An error shown inside a view's container (so a view is never left blank).
  function errorBlock(error) {
    return el("p", { className: "message error inline", role: "alert", text: describe(error) });
  }

  // ---------- the API ----------

  // fetch a /v1 path; options: method, body, headers, and two flags of this page: anonymous
  // (send no token) and signIn (a 401 is a failed sign-in, not an ended session).
  async function api(path, options) {
    const { anonymous, signIn: isSignIn, ...init } = options || {};
    init.method = init.method || "GET";
    init.headers = Object.assign({ Accept: "application/json" }, init.headers);
    if (state.token && !anonymous) init.headers.Authorization = "Bearer " + state.token;
    init.credentials = "omit";
    const response = await fetch(path, init);
    let body = null;
    const type = response.headers.get("content-type") || "";
    if (type.includes("application/json")) {
      try {
        body = await response.json();
      } catch (ignored) {
        body = null;
      }
    }
    if (!response.ok) {
      const message = body && body.error && body.error.message ? body.error.message : "";
      const error = new ApiError(response.status, message, response.headers.get("Retry-After"));
      if (response.status === 401 && state.token && !isSignIn) sessionEnded();
      throw error;
    }
    return body;
  }

  const enc = encodeURIComponent;

  // ---------- sign-in ----------

  function sessionEnded() {
    state.token = null;
    state.me = null;
    state.self = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showMessage("Your session has ended or is not valid. Please sign in again.", "error");
    showLogin();
  }

  async function signIn(username, password, role) {
    const form = new URLSearchParams({ grant_type: "password", username, password });
    if (role) form.set("scope", role);
    showMessage("", "");
    $("login-submit").disabled = true;
    try {
      const token = await api("/v1/auth/token", {
        method: "POST", anonymous: true, signIn: true, body: form.toString(),
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      });
      state.token = token.access_token;
      sessionStorage.setItem(TOKEN_KEY, state.token);
      $("login-password").value = "";
      await start();
    } catch (error) {
      showMessage(error instanceof ApiError && (error.status === 401 || error.status === 400)
        ? "Sign-in failed: " + (error.message || "incorrect user name, password or role") + "."
        : describe(error), "error");
    } finally {
      $("login-submit").disabled = false;
    }
  }

  function signOut() {
    state.token = null;
    state.me = null;
    state.self = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showMessage("You are signed out.", "info");
    location.hash = "";
    showLogin();
  }

  async function loadDemoUsers() {
    const box = $("demo-users");
    try {
      const demo = await api("/v1/auth/demo-users", { anonymous: true });
      $("demo-password").textContent = demo.password;
      const list = clear($("demo-list"));
      for (const user of demo.items) {
        const label = "Sign in as " + user.role.replace("_", " ") + ": " +
          (user.name ? user.name + " (" + user.user_id + ")" : user.user_id);
        list.append(el("li", {}, el("button", {
          type: "button", className: "demo-user", text: label,
          dataset: { role: user.role, user: user.user_id },
          onclick: () => {
            $("login-user").value = user.user_id;
            $("login-password").value = demo.password;
            $("login-role").value = user.role;
            signIn(user.user_id, demo.password, user.role);
          },
        })));
      }
      box.hidden = demo.items.length === 0;
    } catch (ignored) {
      box.hidden = true; // not in demo mode: no demo accounts
    }
  }

  function showOnly(viewId) {
    for (const section of document.querySelectorAll("main > .view")) {
      section.hidden = section.id !== viewId;
    }
  }

  function showLogin() {
    $("nav").hidden = true;
    $("who").hidden = true;
    showOnly("login-view");
    loadDemoUsers();
    $("login-user").focus();
  }

  // ---------- after sign-in ----------

  const VIEWS_BY_ROLE = {
    employee: ["marketplace", "profile", "paths"],
    manager: ["marketplace", "postings", "candidates", "profile", "paths"],
    recruiter: ["candidates", "postings", "profile", "paths"],
    hr_admin: ["marketplace", "candidates", "paths"],
    ml_admin: ["model", "paths"],
  };
  const PAGE = 10;

  async function start() {
    try {
      state.me = await api("/v1/auth/me");
      state.self = state.me.employee_id
        ? await api("/v1/employees/" + enc(state.me.employee_id)) : null;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) showMessage(describe(error));
      return;
    }
    showMessage("", "");
    $("who-name").textContent = state.self
      ? state.self.name + " (" + state.self.id + ")" : state.me.user_id;
    $("who-role").textContent = state.me.role.replace("_", " ");
    $("who").hidden = false;
    const views = VIEWS_BY_ROLE[state.me.role] || ["paths"];
    for (const name of ["marketplace", "candidates", "postings", "profile", "paths", "model"]) {
      $("nav-" + name).hidden = !views.includes(name);
    }
    $("nav").hidden = false;
    const current = route().view;
    if (!current) location.hash = "#/" + views[0];
    else render();
  }

  function route() {
    const hash = location.hash.replace(/^#\/?/, "");
    const [view, query] = hash.split("?");
    return { view: view || "", params: new URLSearchParams(query || "") };
  }

  function go(view, params) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== null && value !== undefined && value !== "") query.set(key, value);
    }
    const text = query.toString();
    location.hash = "#/" + view + (text ? "?" + text : "");
  }

  function render() {
    if (!state.token || !state.me) return;
    const { view, params } = route();
    const id = ++state.renderId;
    const fresh = () => id === state.renderId; // a later navigation supersedes this one
    for (const link of document.querySelectorAll("#nav a")) {
      link.classList.toggle("active", link.id === "nav-" + view);
    }
    const renderers = {
      marketplace: renderMarketplace, candidates: renderCandidates, paths: renderPaths,
      model: renderModel, profile: renderProfile, postings: renderPostings,
    };
    const renderer = renderers[view];
    if (!renderer) {
      go((VIEWS_BY_ROLE[state.me.role] || ["paths"])[0]);
      return;
    }
    showOnly(view + "-view");
    showMessage("", "");
    renderer(params, fresh).catch((error) => {
      if (fresh()) showMessage(describe(error));
    });
  }

  // ---------- skill bars ----------

  // One skill as a bar on the 0-100% proficiency scale: the shaded part is the required level,
  // the solid part the current level.
  function skillBar(skill, current, matched) {
    const required = pct(skill.required_level);
    const have = pct(current);
    const track = el("div", {
      className: "bar", role: "img",
      "aria-label": skill.label + ": " + have + "% now, " + required + "% required",
    });
    const need = el("div", { className: "bar-required" });
    need.style.width = required + "%";
    const fill = el("div", { className: "bar-current" });
    fill.style.width = have + "%";
    track.append(need, fill);
    return el("li", { className: "skill " + (matched ? "matched" : "missing") },
      el("span", { className: "skill-label" },
        el("span", { className: "skill-name", title: skill.label, text: skill.label }),
        skill.essential ? el("span", { className: "tag", text: "essential" }) : null),
      track,
      el("span", { className: "bar-text", text: have + "% / " + required + "%" }));
  }

  function skillLists(matchedSkills, missingSkills, max) {
    const box = el("div", { className: "skills" });
    const matched = el("ul", { className: "skill-list matched-skills" });
    for (const s of matchedSkills.slice(0, max)) matched.append(skillBar(s, s.proficiency, true));
    const missing = el("ul", { className: "skill-list missing-skills" });
    for (const s of missingSkills.slice(0, max)) {
      missing.append(skillBar(s, s.current_level, false));
    }
    box.append(
      el("h4", { text: "Matched skills (" + matchedSkills.length + ")" }),
      matchedSkills.length ? matched : el("p", { className: "hint", text: "None yet." }),
      el("h4", { text: "Missing skills (" + missingSkills.length + ")" }),
      missingSkills.length ? missing : el("p", { className: "hint", text: "None." }));
    return box;
  }

  function reasonList(reasons) {
    const list = el("ul", { className: "reasons" });
    for (const reason of reasons) list.append(el("li", { text: reason.text }));
    return list;
  }

  // ---------- marketplace (employee, manager, hr_admin) ----------

  async function renderMarketplace(params, fresh) {
    const ownId = state.me.employee_id;
    const subject = params.get("employee") || ownId;
    const kinds = params.get("kinds") || "";
    const plan = params.get("plan");
    const filters = { location: params.get("location") || "", level: params.get("level") || "",
      department: params.get("department") || "" };
    const offset = Math.max(0, parseInt(params.get("offset") || "0", 10) || 0);
    const here = { employee: subject === ownId ? "" : subject, kinds, ...filters };
    const list = clear($("opportunities"));
    $("kinds-select").value = kinds;
    $("filter-location").value = filters.location;
    $("filter-level").value = filters.level;
    $("filter-department").value = filters.department;
    $("pager").hidden = true;
    $("market-summary").textContent = "";
    $("saved-panel").hidden = true;
    $("my-places").hidden = true;
    $("report-skills").hidden = true;
    resetPlan($("plan"));

    // Whose marketplace: yourself and, for a manager, your reports; hr_admin types an id.
    $("subject-form").hidden = state.me.role !== "hr_admin";
    $("subject-input").value = subject || "";
    const picker = $("subject-picker");
    picker.hidden = true;
    if (state.me.role === "manager" && ownId) {
      const select = clear($("subject-select"));
      select.append(el("option", { value: ownId, text: "Me: " + state.self.name }));
      try {
        const reports = await api("/v1/employees/" + enc(ownId) + "/reports");
        if (!fresh()) return;
        for (const r of reports.items) {
          select.append(el("option", {
            value: r.id,
            text: r.name + " (" + r.id + ")" + (r.direct ? "" : ", indirect report"),
          }));
        }
        if (subject && ![...select.options].some((o) => o.value === subject)) {
          select.append(el("option", { value: subject, text: subject }));
        }
        select.value = subject;
        $("subject-count").textContent = reports.total > reports.items.length
          ? " (" + reports.items.length + " of " + reports.total + " reports)"
          : " (" + reports.total + " reports)";
        picker.hidden = false;
      } catch (error) {
        if (fresh()) list.append(errorBlock(error));
      }
    }
    if (!subject) {
      $("market-title").textContent = "Opportunity marketplace";
      list.append(el("p", { className: "hint", text: "Enter an employee id to see their " +
        "ranked opportunities." }));
      return;
    }
    list.append(el("li", { className: "loading", text: "Loading opportunities…" }));
    let person;
    let recs;
    try {
      person = subject === ownId ? state.self
        : await api("/v1/employees/" + enc(subject));
      const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
      if (kinds) query.set("kinds", kinds);
      for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
      recs = await api("/v1/employees/" + enc(subject) + "/recommendations?" + query);
    } catch (error) {
      if (!fresh()) return;
      clear(list).append(errorBlock(error));
      $("market-title").textContent = "Opportunity marketplace";
      return;
    }
    if (!fresh()) return;
    clear(list);
    $("market-title").textContent = subject === ownId ? "Your opportunities"
      : "Opportunities for " + person.name + " (" + person.id + ")";
    $("market-summary").textContent = recs.total + " open opportunities ranked for " +
      person.name + " by model " + recs.model_version + " (skills as of " + recs.as_of +
      "); showing " + (recs.items.length ? (recs.offset + 1) + "–" +
      (recs.offset + recs.items.length) : "none") + ".";
    const pager = $("pager");
    pager.hidden = recs.total <= PAGE;
    $("page-info").textContent = "Page " + (Math.floor(recs.offset / PAGE) + 1) + " of " +
      Math.max(1, Math.ceil(recs.total / PAGE));
    $("page-prev").disabled = recs.offset === 0;
    $("page-next").disabled = recs.offset + PAGE >= recs.total;
    $("page-prev").onclick = () => go("marketplace", { ...here,
      offset: Math.max(0, recs.offset - PAGE) || "" });
    $("page-next").onclick = () => go("marketplace", { ...here, offset: recs.offset + PAGE });
    if (!recs.items.length) {
      list.append(el("p", { className: "hint", text: "No open opportunity shares a skill " +
        "with your profile or matches your aspirations right now. Add skills you have or " +
        "where you want to go on your profile, and new openings will show here." }));
    }
    const saved = subject === ownId ? await ownChoices(here, fresh) : new Set();
    if (!fresh()) return;
    for (const item of recs.items) {
      const planButton = item.role_id ? el("button", {
        type: "button", className: "plan-button", text: "Development plan",
        onclick: () => go("marketplace", { ...here, offset: offset || "", plan: item.role_id }),
      }) : null;
      const actions = subject === ownId ? actionButtons(item, saved) : null;
      list.append(el("li", { className: "card opportunity", dataset: { id: item.opportunity_id } },
        el("div", { className: "card-head" },
          el("span", { className: "rank", text: "#" + item.rank }),
          el("h3", { className: "opportunity-title", text: item.title }),
          el("span", { className: "badge kind", text: humanKind(item.kind) })),
        // no model score: a raw (often negative) number tells a person nothing (issue 14)
        el("p", { className: "meta", text: "Level " + item.level + " · " + item.location +
          " · " + item.department_id }),
        item.description ? el("p", { className: "description", text:
          item.description.length > 280 ? item.description.slice(0, 277) + "…"
            : item.description }) : null,
        el("p", { className: "meta dates", text: [
          item.owner_id ? "Owner " + item.owner_id : null,
          item.posted_on ? "posted " + item.posted_on : null,
          item.closes_on ? "closes " + item.closes_on : "no closing date",
        ].filter(Boolean).join(" · ") }),
        el("p", { className: "meta commitment", text: commitment(item.hours_per_week)
          ? "Time commitment: " + commitment(item.hours_per_week)
          : "Time commitment not stated" }),
        skillLists(item.matched_skills, item.missing_skills, 6),
        item.reasons.length ? el("h4", { text: "Why it is suggested" }) : null,
        reasonList(item.reasons),
        item.courses.length ? el("h4", { text: "Courses that close the gap" }) : null,
        item.courses.length ? courseList(item.courses) : null,
        el("div", { className: "card-actions" }, planButton, actions)));
    }
    const skills = $("report-skills"); // a manager endorses a report's skills there
    skills.hidden = !(subject !== ownId && state.me.role === "manager");
    skills.textContent = person.name + "'s skills and endorsements";
    skills.onclick = () => go("profile", { employee: subject });
    if (plan) await showPlan($("plan"), subject, plan, fresh);
  }

  // Your own list: the saved items (a panel) and your preferred places (the "My places"
  // filter); returns the ids you saved, so their cards say so.
  async function ownChoices(here, fresh) {
    const ownId = state.me.employee_id;
    let saved;
    let prefs;
    try {
      saved = await api("/v1/employees/" + enc(ownId) + "/saved");
      prefs = await api("/v1/employees/" + enc(ownId) + "/preferences");
    } catch (error) {
      if (fresh()) clear($("saved")).append(errorBlock(error));
      $("saved-panel").hidden = false;
      return new Set();
    }
    if (!fresh()) return new Set();
    renderSaved(saved.items);
    const places = $("my-places");
    places.hidden = !prefs.locations.length;
    places.textContent = "My places (" + prefs.locations.join(", ") + ")";
    places.onclick = () => go("marketplace", { ...here, location: prefs.locations.join(",") });
    return new Set(saved.items.map((i) => i.opportunity_id));
  }

  function renderSaved(items) {
    const list = clear($("saved"));
    $("saved-panel").hidden = false;
    for (const i of items) {
      list.append(el("li", { dataset: { id: i.opportunity_id } },
        el("span", { className: "saved-title", text: i.title }),
        el("span", { className: "meta", text: humanKind(i.kind) + " · level " + i.level +
          " · " + i.location + (commitment(i.hours_per_week) ? " · " +
            commitment(i.hours_per_week) : "") + (i.status === "open" ? (i.closes_on
            ? " · closes " + i.closes_on : "") : " · " + i.status) })));
    }
    if (!items.length) {
      list.append(el("li", { className: "hint", text: "Nothing saved yet: “Save” on a card " +
        "keeps it here." }));
    }
  }

  async function refreshSaved() {
    try {
      renderSaved((await api("/v1/employees/" + enc(state.me.employee_id) + "/saved")).items);
    } catch (error) {
      clear($("saved")).append(errorBlock(error));
    }
  }

  // Apply / Save / Not interested: events about yourself, one idempotency key per action and
  // opportunity, so a retried click is stored once.
  function actionButtons(item, saved) {
    const box = el("span", { className: "actions" });
    const status = el("span", { className: "action-status", role: "status" });
    const send = async (kind, label, button) => {
      button.disabled = true;
      try {
        await api("/v1/events", { method: "POST", headers: {
          "Content-Type": "application/json",
          "Idempotency-Key": kind + "-" + item.opportunity_id },
          body: JSON.stringify({ kind, opportunity_id: item.opportunity_id }) });
        status.textContent = label;
        if (kind === "not_interested") render(); // it leaves the list at once
        if (kind === "saved") {
          button.textContent = "Saved";
          await refreshSaved();
        }
      } catch (error) {
        button.disabled = false;
        status.textContent = describe(error);
      }
    };
    const button = (kind, text, done) => {
      const b = el("button", { type: "button", className: "action " + kind, text });
      b.addEventListener("click", () => send(kind, done, b));
      return b;
    };
    const save = button("saved", "Save", "Saved: it is on your Saved list.");
    if (saved.has(item.opportunity_id)) {
      save.textContent = "Saved";
      save.disabled = true;
    }
    box.append(button("application", "Apply", "Applied: the owner sees your application."),
      save,
      button("not_interested", "Not interested", "Removed."), status);
    return box;
  }

  function courseList(courses) {
    const list = el("ul", { className: "courses" });
    for (const c of courses) list.append(el("li", { text: c.title + " (" + c.hours + " h)" }));
    return list;
  }

  function resetPlan(box) {
    clear(box).append(el("p", { className: "hint", text: "Choose “Development plan” on an " +
      "opportunity to see the skills to build for its role, the courses that teach them and " +
      "the time to readiness." }));
  }

  async function showPlan(box, employeeId, roleId, fresh) {
    clear(box).append(el("p", { className: "loading", text: "Loading the plan…" }));
    let plan;
    try {
      plan = await api("/v1/employees/" + enc(employeeId) + "/development-plan?target_role_id=" +
        enc(roleId));
    } catch (error) {
      if (fresh()) clear(box).append(errorBlock(error));
      return;
    }
    if (!fresh()) return;
    clear(box);
    const weeks = plan.weeks_to_readiness === null ? "unknown"
      : plan.weeks_to_readiness + " weeks" + (plan.estimate_complete ? "" : " or more");
    box.append(
      el("h3", { className: "plan-title", text: "Toward " + plan.target_role_title }),
      el("dl", { className: "facts" },
        el("dt", { text: "Readiness" }), el("dd", { className: "readiness",
          text: pct(plan.readiness) + "%" }),
        el("dt", { text: "Requirements met" }),
        el("dd", { text: plan.met + " of " + plan.requirements }),
        el("dt", { text: "Course hours" }), el("dd", { text: String(plan.total_course_hours) }),
        el("dt", { text: "Time to readiness" }),
        el("dd", { text: weeks + " at " + plan.weekly_learning_hours + " h a week" })));
    if (!plan.gaps.length) {
      box.append(el("p", { text: "No skill gaps: ready for this role." }));
      return;
    }
    box.append(el("h4", { text: "Skills to build, most important first" }));
    const gaps = el("ol", { className: "gaps" });
    plan.gaps.forEach((gap, index) => {
      const item = el("li", { className: "gap" });
      item.hidden = index >= PLAN_GAPS_SHOWN;
      const bar = skillBar(gap, gap.current_level, false);
      item.append(el("ul", { className: "skill-list" }, bar));
      const ways = [];
      for (const c of gap.courses) ways.push("course: " + c.title + " (" + c.hours + " h)");
      for (const o of gap.opportunities) ways.push(humanKind(o.kind) + ": " + o.title);
      if (ways.length) {
        const list = el("ul", { className: "ways" });
        for (const w of ways) list.append(el("li", { text: w }));
        item.append(list);
      } else {
        item.append(el("p", { className: "hint", text: "No course or practice found yet." }));
      }
      gaps.append(item);
    });
    box.append(gaps);
    const hidden = plan.gaps.length - PLAN_GAPS_SHOWN;
    if (hidden > 0) {
      const more = el("button", { type: "button", className: "more-button",
        text: "Show the other " + hidden + " skills" });
      more.addEventListener("click", () => {
        for (const item of gaps.children) item.hidden = false;
        more.remove();
      });
      box.append(more);
    }
    if (plan.course_plan.length) {
      box.append(el("h4", { text: "Course plan" }), courseList(plan.course_plan));
    }
  }

  // ---------- candidates (recruiter, hr_admin) ----------

  async function renderCandidates(params, fresh) {
    const list = clear($("candidates"));
    const panel = clear($("fairness"));
    $("candidates-summary").textContent = "";
    $("candidates-title").textContent = "Candidates";
    let roleId = params.get("role");
    const opening = params.get("opening");
    $("role-form").hidden = state.me.role !== "hr_admin";
    $("role-input").value = roleId || "";
    const picker = $("role-picker");
    picker.hidden = true;
    panel.hidden = true;
    if (state.me.employee_id && state.me.role !== "hr_admin" && !opening) {
      try {
        const owned = await api("/v1/employees/" + enc(state.me.employee_id) + "/owned-roles");
        if (!fresh()) return;
        const select = clear($("role-select"));
        for (const r of owned.items) {
          const n = r.openings.length;
          select.append(el("option", { value: r.role_id, text: r.title + " (" + r.role_id +
            "), " + n + (n === 1 ? " open opening" : " open openings") }));
        }
        if (roleId && ![...select.options].some((o) => o.value === roleId)) {
          select.append(el("option", { value: roleId, text: roleId }));
        }
        if (!roleId && owned.items.length) roleId = owned.items[0].role_id;
        select.value = roleId || "";
        picker.hidden = select.options.length === 0;
      } catch (error) {
        if (fresh()) list.append(errorBlock(error));
        return;
      }
    }
    if (!roleId && !opening) {
      list.append(el("p", { className: "message info inline", text:
        state.me.role === "hr_admin" ? "Enter a role id to see its candidates."
          : "You own no open role opening, so there is no candidate list to show." }));
      return;
    }
    list.append(el("li", { className: "loading", text: "Loading candidates…" }));
    let result;
    try {
      result = opening
        ? await api("/v1/opportunities/" + enc(opening) + "/candidates?limit=20")
        : await api("/v1/roles/" + enc(roleId) + "/candidates?limit=20");
    } catch (error) {
      if (fresh()) clear(list).append(errorBlock(error));
      return;
    }
    if (!fresh()) return;
    clear(list);
    $("candidates-title").textContent = "Candidates for " + (result.opportunity_id
      ? result.title + " (" + result.location + ", level " + result.level +
        (result.closes_on ? ", closes " + result.closes_on : "") +
        (commitment(result.hours_per_week) ? ", " + commitment(result.hours_per_week) : "") +
        ")" : result.role_title);
    $("candidates-summary").textContent = result.items.length + " discoverable internal " +
      "candidates, ranked by model " + result.model_version + " and fairly re-ranked.";
    for (const c of result.items) {
      // no model score or pre-re-ranking position: they would show who was moved by group
      list.append(el("li", { className: "card candidate", dataset: { id: c.employee_id } },
        el("div", { className: "card-head" },
          el("span", { className: "rank", text: "#" + c.rank }),
          el("h3", { className: "candidate-name", text: c.name }),
          el("span", { className: "badge candidate-id", text: c.employee_id })),
        el("p", { className: "meta", text: (c.role_title || c.role_id) + " · level " + c.level +
          " · " + c.location + " · " + c.department_id }),
        skillLists(c.matched_skills, c.missing_skills, 4),
        c.reasons.length ? el("h4", { text: "Why" }) : null,
        reasonList(c.reasons)));
    }
    if (!result.items.length) {
      list.append(el("p", { className: "hint", text: "No discoverable candidate for now." }));
    }
    renderFairness(panel, result.fairness);
  }

  function share(value) {
    return value === null || value === undefined ? "suppressed" : pct(value) + "%";
  }

  function renderFairness(panel, f) {
    clear(panel).append(el("h2", { text: "Fairness of this list" }));
    panel.hidden = false;
    if (!f) {
      panel.append(el("p", { className: "hint", text: "No fairness figures for this list." }));
      return;
    }
    const low = f.min_impact_ratio !== null && f.min_impact_ratio < FOUR_FIFTHS;
    panel.append(
      el("p", { className: "hint", text: "Rounded group shares (" +
        f.dimension.replace(/_x_/g, " × ").replace(/_/g, " ") + ") of the top " + f.prefix +
        " positions, whatever the list length; no person's attribute can be read off them. " +
        "Small cells are suppressed; detailed figures are in the HR audit." }),
      el("dl", { className: "facts" },
        el("dt", { text: "Candidates retrieved" }),
        el("dd", { text: f.pool_size + " people" }),
        el("dt", { text: "Figures cover" }),
        el("dd", { text: f.figures_shown ? "the top " + f.prefix + " positions"
          : "withheld: the pool is under " + f.prefix + " people" }),
        el("dt", { text: "Fair re-ranking" }),
        el("dd", { text: (f.rerank_enabled ? "on" : "off") + (f.floors_met === null ? ""
          : f.floors_met ? "; every group's floor met" : "; some floors missed") }),
        el("dt", { text: "Lowest impact ratio" }),
        el("dd", { className: "min-impact" + (low ? " warn" : ""),
          text: fixed(f.min_impact_ratio, 1) + (low ? " (below the four-fifths guideline)"
            : "") })));
    if (f.flag) panel.append(el("p", { className: "flag warn", text: "Flag: " + f.flag }));
    if (!f.groups.length) return;
    const table = el("table", { className: "groups" },
      el("thead", {}, el("tr", {},
        ...["Group", "Pool share", "Top " + f.prefix + " share"].map(
          (h) => el("th", { scope: "col", text: h })))));
    const body = el("tbody");
    for (const g of f.groups) {
      body.append(el("tr", {},
        el("th", { scope: "row", text: g.group }),
        el("td", { text: share(g.pool_share) }),
        el("td", { text: share(g.top_share) })));
    }
    table.append(body);
    panel.append(table);
  }

  // ---------- own profile (anyone who is an employee) ----------

  // A skill with its levels and the evidence behind it; ``action`` is the card's button.
  function skillCard(skill, action) {
    const evidence = el("ul", { className: "evidence" });
    for (const e of skill.evidence) {
      evidence.append(el("li", { text: humanKind(e.kind) + (e.occurred_on ? " (" +
        e.occurred_on + ")" : "") + (e.text ? ": " + e.text : "") }));
    }
    return el("li", { className: "card profile-skill", dataset: { uri: skill.uri } },
      el("div", { className: "card-head" },
        el("h3", { className: "skill-title", text: skill.label }),
        el("span", { className: "badge level", text: pct(skill.proficiency) +
          "% · confidence " + pct(skill.confidence) + "%" })),
      el("h4", { text: "Evidence" }), evidence, action);
  }

  // The tail of a URI as an idempotency-key part (A-Z a-z 0-9 . _ : ~ -).
  function keyPart(uri) {
    return uri.slice(-40).replace(/[^A-Za-z0-9._:~-]/g, "-");
  }

  async function renderProfile(params, fresh) {
    const list = clear($("profile-skills"));
    const rejected = clear($("profile-rejected"));
    $("describe-result").textContent = "";
    const ownId = state.me.employee_id;
    const subject = params.get("employee");
    $("profile-aside").hidden = !!subject && subject !== ownId;
    $("profile-title").textContent = "Your skills";
    if (subject && subject !== ownId) {
      await renderReportSkills(subject, fresh);
      return;
    }
    if (!ownId) {
      list.append(el("p", { className: "hint", text: "Only employees have a skill profile." }));
      return;
    }
    list.append(el("li", { className: "loading", text: "Loading your skills…" }));
    let profile;
    let open;
    let prefs;
    try {
      profile = await api("/v1/employees/" + enc(ownId) + "/skills");
      open = await api("/v1/employees/" + enc(ownId) + "/discoverability");
      prefs = await api("/v1/employees/" + enc(ownId) + "/preferences");
    } catch (error) {
      if (fresh()) clear(list).append(errorBlock(error));
      return;
    }
    if (!fresh()) return;
    clear(list);
    $("discoverable-box").checked = !!open.discoverable;
    $("pref-aspirations").value = prefs.aspirations || "";
    $("pref-locations").value = prefs.locations.join(", ");
    $("preferences-result").textContent = "";
    $("profile-summary").textContent = profile.skills.length + " skills the evidence supports " +
      "(as of " + profile.as_of + "). Reject one that is wrong; add evidence on the right.";
    for (const skill of profile.skills) {
      const reject = el("button", { type: "button", className: "reject", text: "Not my skill" });
      reject.addEventListener("click", async () => {
        reject.disabled = true;
        try {
          await api("/v1/events", { method: "POST", headers: { "Content-Type":
            "application/json", "Idempotency-Key": "reject-" + keyPart(skill.uri) },
            body: JSON.stringify({ kind: "skill_rejected", skill_uri: skill.uri }) });
          render();
        } catch (error) {
          reject.disabled = false;
          showMessage(describe(error));
        }
      });
      list.append(skillCard(skill, reject));
    }
    if (!profile.skills.length) {
      list.append(el("p", { className: "hint", text: "No skill yet: add evidence." }));
    }
    for (const r of profile.rejected) rejected.append(el("li", { text: r.label }));
    if (!profile.rejected.length) rejected.append(el("li", { className: "hint", text: "None." }));
  }

  // A report's skills as their manager sees them: endorse one you have seen them use (the
  // API takes an endorsement from the person's manager only, direct or indirect).
  async function renderReportSkills(subject, fresh) {
    const list = $("profile-skills");
    list.append(el("li", { className: "loading", text: "Loading the skills…" }));
    let person;
    let profile;
    try {
      person = await api("/v1/employees/" + enc(subject));
      profile = await api("/v1/employees/" + enc(subject) + "/skills");
    } catch (error) {
      if (fresh()) clear(list).append(errorBlock(error));
      $("profile-summary").textContent = "";
      return;
    }
    if (!fresh()) return;
    clear(list);
    const manager = state.me.role === "manager";
    $("profile-title").textContent = "Skills of " + person.name + " (" + person.id + ")";
    $("profile-summary").textContent = profile.skills.length + " skills the evidence supports " +
      "(as of " + profile.as_of + ")." + (manager
      ? " Endorse a skill you have seen " + person.name + " use: it adds to the evidence." : "");
    for (const skill of profile.skills) {
      let action = null;
      if (manager) {
        const status = el("span", { className: "action-status", role: "status" });
        const endorse = el("button", { type: "button", className: "endorse", text: "Endorse" });
        endorse.addEventListener("click", async () => {
          endorse.disabled = true;
          try {
            await api("/v1/employees/" + enc(subject) + "/evidence", { method: "POST",
              headers: { "Content-Type": "application/json",
                "Idempotency-Key": "endorse-" + keyPart(subject).slice(0, 14) + "-" +
                keyPart(skill.uri) },
              body: JSON.stringify({ kind: "endorsement", skill_uri: skill.uri }) });
            await renderReportSkills(subject, () => true); // the new evidence, the new level
            const card = list.querySelector("li.profile-skill[data-uri='" +
              CSS.escape(skill.uri) + "']");
            if (card) {
              card.querySelector(".action-status").textContent =
                "Endorsed: it counts in their profile now.";
              const again = card.querySelector("button.endorse");
              again.textContent = "Endorsed";
              again.disabled = true;
            }
          } catch (error) {
            endorse.disabled = false;
            status.textContent = describe(error);
          }
        });
        action = el("div", { className: "card-actions" }, endorse, status);
      }
      list.append(skillCard(skill, action));
    }
    if (!profile.skills.length) {
      list.append(el("p", { className: "hint", text: "No skill shown by the evidence yet." }));
    }
  }

  async function addDescription(event) {
    event.preventDefault();
    const text = $("describe-text").value.trim();
    if (!text) return;
    const key = "describe-" + Date.now().toString(36);
    try {
      const made = await api("/v1/employees/" + enc(state.me.employee_id) + "/evidence", {
        method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": key },
        body: JSON.stringify({ kind: "self_description", text }) });
      $("describe-text").value = "";
      await renderProfile(new URLSearchParams(), () => true);
      $("describe-result").textContent = made.skills.length
        ? "Added: " + made.skills.map((s) => s.label).join(", ") + "."
        : "No skill was recognised in that text.";
    } catch (error) {
      $("describe-result").textContent = describe(error);
    }
  }

  async function savePreferences(event) {
    event.preventDefault();
    const locations = $("pref-locations").value.split(",").map((v) => v.trim())
      .filter(Boolean);
    try {
      await api("/v1/employees/" + enc(state.me.employee_id) + "/preferences", {
        method: "PUT", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ aspirations: $("pref-aspirations").value.trim(), locations }) });
      $("preferences-result").textContent = "Saved: your lists take it into account.";
    } catch (error) {
      $("preferences-result").textContent = describe(error);
    }
  }

  async function setDiscoverable(event) {
    const box = event.target;
    try {
      await api("/v1/employees/" + enc(state.me.employee_id) + "/discoverability", {
        method: "PUT", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ discoverable: box.checked }) });
    } catch (error) {
      box.checked = !box.checked;
      showMessage(describe(error));
    }
  }

  // ---------- own opportunities (manager, recruiter) ----------

  async function renderPostings(params, fresh) {
    const list = clear($("postings"));
    if (!state.me.employee_id) {
      list.append(el("p", { className: "hint", text: "Only employees own opportunities." }));
      return;
    }
    if (!$("posting-location").value && state.self) {
      $("posting-location").value = state.self.location || "";
    }
    list.append(el("li", { className: "loading", text: "Loading your opportunities…" }));
    let mine;
    try {
      mine = await api("/v1/opportunities?owner=me");
    } catch (error) {
      if (fresh()) clear(list).append(errorBlock(error));
      return;
    }
    if (!fresh()) return;
    clear(list);
    if (!mine.items.length) {
      list.append(el("p", { className: "hint", text: "You own no opportunity yet: post one." }));
    }
    for (const o of mine.items) list.append(postingCard(o));
    const show = params.get("applicants");
    if (show) await showApplicants(show);
  }

  function postingCard(o) {
    const skills = el("ul", { className: "plain required-skills" });
    for (const s of o.required_skills.slice(0, 8)) {
      skills.append(el("li", { text: s.label + (s.essential ? " (essential)" : "") }));
    }
    const actions = el("div", { className: "card-actions" });
    if (o.status === "open") {
      actions.append(el("button", { type: "button", className: "candidates-button",
        text: "Candidates", onclick: () => go("candidates", { opening: o.id }) }));
      const close = el("button", { type: "button", className: "close-button", text: "Close" });
      close.addEventListener("click", async () => {
        close.disabled = true;
        try {
          await api("/v1/opportunities/" + enc(o.id), { method: "PATCH",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ status: "closed" }) });
          render();
        } catch (error) {
          close.disabled = false;
          showMessage(describe(error));
        }
      });
      actions.append(close);
    }
    actions.append(el("button", { type: "button", className: "applicants-button",
      text: "Applicants (" + o.applicants + ")",
      onclick: () => go("postings", { applicants: o.id }) }));
    return el("li", { className: "card posting", dataset: { id: o.id } },
      el("div", { className: "card-head" },
        el("h3", { className: "posting-title", text: o.title }),
        el("span", { className: "badge kind", text: humanKind(o.kind) }),
        el("span", { className: "badge status", text: o.status })),
      el("p", { className: "meta", text: "Level " + o.level + " · " + o.location + " · " +
        o.department_id + " · posted " + o.posted_on +
        (o.closes_on ? " · closes " + o.closes_on : "") +
        (commitment(o.hours_per_week) ? " · " + commitment(o.hours_per_week) : "") }),
      el("h4", { text: "Required skills (" + o.required_skills.length + ")" }), skills,
      actions);
  }

  async function showApplicants(opportunityId) {
    const box = clear($("posting-detail"));
    try {
      const found = await api("/v1/opportunities/" + enc(opportunityId) + "/applicants");
      box.append(el("h2", { text: "Applicants: " + found.title }));
      const list = el("ul", { className: "plain applicants" });
      for (const a of found.items) {
        list.append(el("li", { dataset: { id: a.employee_id }, text: a.name + " (" +
          a.employee_id + "), " + (a.role_title || a.role_id) + ", level " + a.level + ", " +
          a.location + ", applied " + a.applied_at.slice(0, 10) }));
      }
      box.append(found.items.length ? list : el("p", { className: "hint",
        text: "No application yet." }));
    } catch (error) {
      box.append(errorBlock(error));
    }
  }

  async function postOpportunity(event) {
    event.preventDefault();
    const body = { kind: $("posting-kind").value, title: $("posting-title").value.trim(),
      description: $("posting-description").value.trim(),
      location: $("posting-location").value.trim(), level: Number($("posting-level").value) };
    if ($("posting-closes").value) body.closes_on = $("posting-closes").value;
    if ($("posting-hours").value) body.hours_per_week = Number($("posting-hours").value);
    const key = "post-" + Date.now().toString(36);
    try {
      const made = await api("/v1/opportunities", { method: "POST", headers: {
        "Content-Type": "application/json", "Idempotency-Key": key },
        body: JSON.stringify(body) });
      $("posting-title").value = "";
      $("posting-description").value = "";
      $("posting-hours").value = "";
      $("posting-result").textContent = "Posted " + made.title + ": it needs " +
        made.required_skills.slice(0, 6).map((s) => s.label).join(", ") +
        ". People it fits see it within seconds.";
      await renderPostings(new URLSearchParams(), () => true);
    } catch (error) {
      $("posting-result").textContent = describe(error);
    }
  }

  // ---------- career paths (everyone) ----------

  async function renderPaths(params, fresh) {
    const list = clear($("paths"));
    $("paths-summary").textContent = "";
    $("path-plan-panel").hidden = true;
    const roleId = params.get("role") || (state.self ? state.self.role_id : "");
    const planFor = params.get("plan");
    $("paths-role").value = roleId;
    $("paths-title").textContent = "Career paths";
    if (!roleId) {
      list.append(el("p", { className: "hint", text: "Enter a role id to see where it leads." }));
      return;
    }
    list.append(el("li", { className: "loading", text: "Loading paths…" }));
    let result;
    try {
      result = await api("/v1/roles/" + enc(roleId) + "/paths?limit=10");
    } catch (error) {
      if (fresh()) clear(list).append(errorBlock(error));
      return;
    }
    if (!fresh()) return;
    clear(list);
    const mine = state.self && roleId === state.self.role_id;
    $("paths-title").textContent = "Career paths from " + result.role_title +
      (mine ? " (your role)" : "");
    $("paths-summary").textContent = result.items.length ? "The most reachable next roles: " +
      "how related the occupations are (O*NET and ESCO reference data), and the " +
      result.moves_out + " internal moves out of this role" +
      (result.evidence_weight > 0 ? " (weight " + pct(result.evidence_weight) + "%)."
        : " (too few to weigh yet).")
      : "No path found from this role.";
    for (const step of result.items) {
      const actions = el("div", { className: "actions" },
        el("button", { type: "button", className: "next-button", text: "Paths from here",
          onclick: () => go("paths", { role: step.role_id }) }));
      if (state.me.employee_id) {
        actions.append(el("button", { type: "button", className: "plan-button",
          text: "My development plan",
          onclick: () => go("paths", { role: roleId, plan: step.role_id }) }));
      }
      list.append(el("li", { className: "card step", dataset: { id: step.role_id } },
        el("div", { className: "card-head" },
          el("span", { className: "arrow", "aria-hidden": "true", text: "→" }),
          el("h3", { className: "step-title", text: step.title }),
          el("span", { className: "badge direction " + step.direction, text: step.direction,
            title: step.direction === "upward" ? "a step up" : "same level" })),
        el("p", { className: "meta", text: "Level " + step.level + " · " + step.role_id +
          (step.onet_code ? " · O*NET " + step.onet_code : "") }),
        el("p", { className: "reason", text: step.reasons.summary }),
        el("p", { className: "meta", text: "Relatedness " + pct(step.relatedness) + "% · " +
          step.observed.moves + " internal move" + (step.observed.moves === 1 ? "" : "s") +
          (step.observed.rated ? " (" + step.observed.thrived + " of " + step.observed.rated +
            " thrived)" : "") }),
        actions));
    }
    if (planFor && state.me.employee_id) {
      $("path-plan-panel").hidden = false;
      await showPlan($("path-plan"), state.me.employee_id, planFor, fresh);
    }
  }

  // ---------- model status (ml_admin) ----------

  async function renderModel(params, fresh) {
    const box = clear($("model-status"));
    let status;
    try {
      status = await api("/v1/admin/model");
    } catch (error) {
      if (fresh()) box.append(errorBlock(error));
      return;
    }
    if (!fresh()) return;
    const rows = [["State", status.state], ["Model", status.model_name],
      ["Version", status.model_version], ["Loaded at", status.loaded_at],
      ["Skills as of", status.as_of], ["Features", status.feature_count],
      ["Last error", status.last_error]];
    for (const [name, value] of rows) {
      if (value === null || value === undefined) continue;
      box.append(el("dt", { text: name }), el("dd", { text: String(value) }));
    }
  }

  // ---------- wiring ----------

  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      signIn($("login-user").value.trim(), $("login-password").value, $("login-role").value);
    });
    $("sign-out").addEventListener("click", signOut);
    $("subject-select").addEventListener("change", (event) => {
      const value = event.target.value;
      go("marketplace", { employee: value === state.me.employee_id ? "" : value,
        kinds: $("kinds-select").value });
    });
    $("subject-form").addEventListener("submit", (event) => {
      event.preventDefault();
      go("marketplace", { employee: $("subject-input").value.trim(),
        kinds: $("kinds-select").value });
    });
    $("kinds-select").addEventListener("change", (event) => {
      const { params } = route();
      go("marketplace", { employee: params.get("employee"), kinds: event.target.value,
        location: params.get("location"), level: params.get("level"),
        department: params.get("department") });
    });
    $("role-select").addEventListener("change", (event) => {
      go("candidates", { role: event.target.value });
    });
    $("role-form").addEventListener("submit", (event) => {
      event.preventDefault();
      go("candidates", { role: $("role-input").value.trim() });
    });
    $("paths-form").addEventListener("submit", (event) => {
      event.preventDefault();
      go("paths", { role: $("paths-role").value.trim() });
    });
    $("filter-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const { params } = route();
      go("marketplace", { employee: params.get("employee"), kinds: params.get("kinds"),
        location: $("filter-location").value.trim(), level: $("filter-level").value,
        department: $("filter-department").value.trim() });
    });
    $("describe-form").addEventListener("submit", addDescription);
    $("discoverable-box").addEventListener("change", setDiscoverable);
    $("preferences-form").addEventListener("submit", savePreferences);
    $("posting-form").addEventListener("submit", postOpportunity);
    window.addEventListener("hashchange", render);
    state.token = sessionStorage.getItem(TOKEN_KEY);
    if (state.token) start();
    else showLogin();
  });
})();
