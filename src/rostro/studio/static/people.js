/* People: person groups and large person groups through the Face API itself, with the chosen
 * resource's key (each action is a Face API call and counts, as in Azure's Vision Studio).
 * Three views, one per URL: the groups, a group (persons in pages, training, identify), a
 * person (faces, drag-and-drop upload). */
"use strict";

(() => {
  const root = document.getElementById("people");
  if (!root) return;
  const { t, el, api, announce, drawFaces, showImage, errorMessage } = Studio;
  const d = root.dataset;
  const endpoint = d.endpoint, key = d.key, kind = d.kind, group = d.group, person = d.person;
  const pageSize = Number(d.pageSize || 50);
  const statusLine = document.getElementById("people-status");
  const errorLine = document.getElementById("people-error");
  const groupIdField = kind === "largepersongroups" ? "largePersonGroupId" : "personGroupId";

  function say(message) { statusLine.textContent = message; }

  function fail(message) {
    errorLine.hidden = false;
    errorLine.textContent = message;
  }

  class ApiFailure extends Error {
    constructor(result) { super(errorMessage(result)); this.result = result; }
  }

  async function call(method, path, options = {}) {
    errorLine.hidden = true;
    const result = await api(endpoint, key, method, "face/v1.0/" + path, {
      ...options, onWait: (seconds) => say(t("js.rate_wait", { seconds })),
    });
    if (!result.ok) throw new ApiFailure(result);
    return result.data;
  }

  function link(params) {
    const url = new URL(d.base, location.href);
    url.searchParams.set("resource", d.resource);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.pathname + url.search;
  }

  const enc = encodeURIComponent;

  /* ---------------------------------------------------------------- the groups */
  async function groupsView() {
    for (const which of ["persongroups", "largepersongroups"]) {
      const body = document.querySelector(`#list-${which} tbody`);
      try {
        const groups = await call("GET", which, { query: { top: 1000, returnRecognitionModel: "true" } });
        body.replaceChildren();
        if (!groups.length) body.append(el("tr", {}, el("td", { colspan: "4", text: t("js.no_groups") })));
        for (const item of groups) {
          const id = item.personGroupId || item.largePersonGroupId;
          body.append(el("tr", {},
            el("th", { scope: "row" }, el("a", { href: link({ kind: which, group: id }), text: id })),
            el("td", { text: item.name }), el("td", { text: item.recognitionModel || "" }),
            el("td", {}, el("a", { href: link({ kind: which, group: id }), text: t("js.open") }))));
        }
      } catch (error) {
        body.replaceChildren(el("tr", {}, el("td", { colspan: "4", text: error.message })));
      }
    }
    document.getElementById("create-group").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      const which = form.querySelector("input[name=kind]:checked").value;
      const id = form.elements.id.value.trim();
      try {
        say(t("js.working"));
        await call("PUT", `${which}/${enc(id)}`, {
          json: { name: form.elements.name.value.trim(), recognitionModel: form.elements.recognitionModel.value },
        });
        location.assign(link({ kind: which, group: id }));
      } catch (error) { say(""); fail(error.message); }
    });
  }

  /* ------------------------------------------------------------------ one group */
  let recognitionModel = "recognition_01";
  const names = new Map();

  function trainingText(state) {
    return t("js.training_" + String(state || "notstarted").toLowerCase());
  }

  async function refreshTraining(poll) {
    const statusNode = document.getElementById("training-status");
    const timeNode = document.getElementById("training-time");
    for (;;) {
      let state;
      try {
        const training = await call("GET", `${kind}/${enc(group)}/training`);
        state = String(training.status).toLowerCase();
        statusNode.textContent = trainingText(state);
        timeNode.textContent = training.lastActionDateTime ? t("js.last_action", { time: training.lastActionDateTime }) : "";
        if (state === "failed" && training.message) timeNode.textContent += " " + training.message;
      } catch (error) {
        const code = error.result && error.result.data && error.result.data.error && error.result.data.error.code;
        if (code && /NotTrained/.test(code)) { statusNode.textContent = trainingText("notstarted"); return "notstarted"; }
        throw error;
      }
      if (!poll || state === "succeeded" || state === "failed") return state;
      await Studio.sleep(1000);
    }
  }

  async function loadPersons() {
    const body = document.querySelector("#persons tbody");
    const query = { top: pageSize };
    if (d.start) query.start = d.start;
    const persons = await call("GET", `${kind}/${enc(group)}/persons`, { query });
    body.replaceChildren();
    if (!persons.length) body.append(el("tr", {}, el("td", { colspan: "4", text: t("js.no_persons") })));
    for (const item of persons) {
      names.set(item.personId, item.name);
      const remove = el("button", { type: "button", class: "link danger", text: t("js.delete"),
                                    "aria-label": t("js.delete_named", { name: item.name }) });
      remove.addEventListener("click", async () => {
        if (!confirm(t("js.confirm_delete_person", { name: item.name }))) return;
        try { await call("DELETE", `${kind}/${enc(group)}/persons/${item.personId}`); await loadPersons(); }
        catch (error) { fail(error.message); }
      });
      body.append(el("tr", {},
        el("th", { scope: "row" }, el("a", { href: link({ kind, group, person: item.personId }), text: item.name })),
        el("td", { class: "mono small", text: item.personId }),
        el("td", { class: "num", text: String((item.persistedFaceIds || []).length) }),
        el("td", {}, remove)));
    }
    const next = document.getElementById("next-page");
    if (persons.length === pageSize) {
      next.href = link({ kind, group, start: persons[persons.length - 1].personId, page: Number(d.page || 1) + 1 });
      next.hidden = false;
    } else {
      next.hidden = true;
    }
  }

  async function personName(personId) {
    if (!names.has(personId)) {
      try { names.set(personId, (await call("GET", `${kind}/${enc(group)}/persons/${personId}`)).name); }
      catch (error) { names.set(personId, personId); }
    }
    return names.get(personId);
  }

  async function identify(file) {
    const results = document.getElementById("identify-results");
    const body = document.querySelector("#candidates tbody");
    say(t("js.working"));
    const faces = await call("POST", "detect", {
      query: { returnFaceId: "true", recognitionModel }, body: file,
    });
    const labels = faces.map(() => t("js.unknown"));
    body.replaceChildren();
    if (faces.length) {
      const identified = await call("POST", "identify", {
        json: { faceIds: faces.slice(0, 10).map((f) => f.faceId), [groupIdField]: group, maxNumOfCandidatesReturned: 3 },
      });
      for (const [index, result] of identified.entries()) {
        const candidates = result.candidates || [];
        if (!candidates.length) {
          body.append(el("tr", { "data-face": String(index + 1) }, el("th", { scope: "row", text: `#${index + 1}` }),
            el("td", { text: t("js.unknown") }), el("td", { class: "num", text: "—" })));
        }
        for (const [rank, candidate] of candidates.entries()) {
          const name = await personName(candidate.personId);
          if (rank === 0) labels[index] = `${name} (${candidate.confidence.toFixed(2)})`;
          body.append(el("tr", { "data-face": String(index + 1), class: "candidate" },
            el("th", { scope: "row", text: rank === 0 ? `#${index + 1}` : "" }),
            el("td", { class: "candidate-name", text: name }),
            el("td", { class: "num confidence", text: candidate.confidence.toFixed(3) })));
        }
      }
    }
    results.hidden = false;
    const img = document.getElementById("identify-view");
    await showImage(img, URL.createObjectURL(file));
    drawFaces(img, document.getElementById("identify-overlay"), faces, labels);
    const message = t(faces.length === 1 ? "js.one_face" : "js.faces", { n: faces.length });
    say(message);
    announce(message);
  }

  async function groupView() {
    // The handlers go on first, before any await: a form submitted before they are attached
    // would make the browser send it as a plain GET and leave the page. Identify waits for the
    // group's recognition model, which its detect call must use.
    const groupInfo = call("GET", `${kind}/${enc(group)}`, { query: { returnRecognitionModel: "true" } });
    document.getElementById("add-person").addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const created = await call("POST", `${kind}/${enc(group)}/persons`, { json: { name: event.target.elements.name.value.trim() } });
        location.assign(link({ kind, group, person: created.personId }));
      } catch (error) { fail(error.message); }
    });
    document.getElementById("train").addEventListener("click", async (event) => {
      const button = event.target;
      button.disabled = true;
      try {
        await call("POST", `${kind}/${enc(group)}/train`);
        const state = await refreshTraining(true);
        announce(trainingText(state));
      } catch (error) { fail(error.message); }
      finally { button.disabled = false; }
    });
    document.getElementById("delete-group").addEventListener("click", async () => {
      if (!confirm(t("js.confirm_delete_group", { name: group }))) return;
      try { await call("DELETE", `${kind}/${enc(group)}`); location.assign(link({})); }
      catch (error) { fail(error.message); }
    });
    document.getElementById("identify-photo").addEventListener("change", async (event) => {
      const file = event.target.files[0];
      if (!file) return;
      try { await groupInfo; await identify(file); } catch (error) { say(""); fail(error.message); }
    });
    try {
      const info = await groupInfo;
      recognitionModel = info.recognitionModel || recognitionModel;
      document.getElementById("group-title").textContent = `${info.name} (${group})`;
      document.getElementById("group-meta").textContent = t("js.group_meta", { model: recognitionModel });
    } catch (error) { fail(error.message); return; }
    try {
      const state = await refreshTraining(false);
      await loadPersons();
      if (state === "running") await refreshTraining(true);
    } catch (error) { fail(error.message); }
  }

  /* ----------------------------------------------------------------- one person */
  async function loadPerson() {
    const info = await call("GET", `${kind}/${enc(group)}/persons/${enc(person)}`);
    document.getElementById("person-title").textContent = info.name;
    const faces = info.persistedFaceIds || [];
    document.getElementById("face-count").textContent = String(faces.length);
    document.getElementById("face-list").replaceChildren(...faces.map((id) => el("li", { text: id })));
  }

  async function upload(files) {
    const list = document.getElementById("uploads");
    for (const file of files) {
      const item = el("li", { text: `${file.name}: ${t("js.uploading")}` });
      list.append(item);
      try {
        const face = await call("POST", `${kind}/${enc(group)}/persons/${enc(person)}/persistedfaces`, { body: file });
        item.textContent = `${file.name}: ${t("js.uploaded", { id: face.persistedFaceId })}`;
        item.className = "ok";
      } catch (error) {
        item.textContent = `${file.name}: ${error.message}`;
        item.className = "error";
      }
    }
    await loadPerson();
    const message = t("js.uploads_done", { n: files.length });
    say(message);
    announce(message);
  }

  async function personView() {
    try { await loadPerson(); } catch (error) { fail(error.message); return; }
    document.getElementById("face-files").addEventListener("change", (event) => {
      const files = [...event.target.files];
      if (files.length) upload(files).catch((error) => fail(error.message));
    });
    document.getElementById("delete-person").addEventListener("click", async () => {
      if (!confirm(t("js.confirm_delete_person", { name: document.getElementById("person-title").textContent }))) return;
      try { await call("DELETE", `${kind}/${enc(group)}/persons/${enc(person)}`); location.assign(link({ kind, group })); }
      catch (error) { fail(error.message); }
    });
  }

  const views = { groups: groupsView, group: groupView, person: personView };
  (views[d.view] || groupsView)().catch((error) => fail(error.message));
})();
