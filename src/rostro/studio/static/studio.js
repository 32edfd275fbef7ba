/* Rostro Studio: what every page shares (no framework, no external resources).
 * - copy and show/hide buttons, drag-and-drop zones, live usage refresh;
 * - Studio.api(): a Face API call with the resource's key, the same request any client sends
 *   (on 429 it waits Retry-After and tries again, at most three times);
 * - Studio.drawFaces(): face boxes, landmarks and labels over a photo, in SVG. */
"use strict";

const Studio = (() => {
  const stringsNode = document.getElementById("strings");
  const strings = stringsNode ? JSON.parse(stringsNode.textContent) : {};

  function t(key, values) {
    let text = strings[key] || key;
    for (const [name, value] of Object.entries(values || {})) {
      text = text.split("{" + name + "}").join(String(value));
    }
    return text;
  }

  function announce(message) {
    const live = document.getElementById("live");
    if (live) { live.textContent = ""; setTimeout(() => { live.textContent = message; }, 30); }
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (error) {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      const done = document.execCommand("copy");
      area.remove();
      return done;
    }
  }

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function wireCopyButtons(root) {
    for (const button of root.querySelectorAll("[data-copy]")) {
      if (button.dataset.wired) continue;
      button.dataset.wired = "1";
      button.addEventListener("click", async () => {
        const target = document.getElementById(button.dataset.copy);
        const text = "value" in target && target.tagName !== "PRE" ? target.value : target.textContent;
        const ok = await copyText(text);
        const label = button.textContent;
        button.textContent = ok ? t("js.copied") : t("js.copy_failed");
        announce(button.textContent);
        setTimeout(() => { button.textContent = label; }, 1500);
      });
    }
    for (const button of root.querySelectorAll("[data-reveal]")) {
      button.addEventListener("click", () => {
        const target = document.getElementById(button.dataset.reveal);
        const shown = target.type === "password";
        target.type = shown ? "text" : "password";
        button.setAttribute("aria-pressed", String(shown));
        button.textContent = shown ? t("js.hide") : t("js.show");
      });
    }
  }

  function wireDropzones(root) {
    for (const zone of root.querySelectorAll("[data-dropzone]")) {
      const input = document.getElementById(zone.dataset.dropzone);
      zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
      zone.addEventListener("dragleave", () => zone.classList.remove("over"));
      zone.addEventListener("drop", (event) => {
        event.preventDefault();
        zone.classList.remove("over");
        if (!event.dataTransfer || !event.dataTransfer.files.length) return;
        input.files = event.dataTransfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }
  }

  function wireUsageRefresh() {
    const box = document.getElementById("usage");
    if (!box || !box.dataset.refresh) return;
    const interval = Number(box.dataset.interval || 5000);
    async function refresh() {
      try {
        const response = await fetch(box.dataset.refresh, { credentials: "same-origin" });
        if (response.ok) box.innerHTML = await response.text();
      } catch (error) { /* the next tick tries again */ }
      setTimeout(refresh, interval);
    }
    setTimeout(refresh, interval);
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /* One Face API call. `options`: query (object), json (body), body (Blob/File) -> octet-stream.
   * Returns {status, ok, data, text}; `data` is the parsed JSON body (or null). */
  async function api(endpoint, key, method, path, options = {}) {
    const url = new URL(path.replace(/^\//, ""), endpoint);
    for (const [name, value] of Object.entries(options.query || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
    }
    const headers = { "Ocp-Apim-Subscription-Key": key };
    let body;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.body !== undefined) {
      headers["Content-Type"] = "application/octet-stream";
      body = options.body;
    }
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(url, { method, headers, body, credentials: "omit" });
      const text = await response.text();
      let data = null;
      try { data = text ? JSON.parse(text) : null; } catch (error) { data = null; }
      if (response.status === 429 && attempt < 3) {
        const wait = Math.min(65, Number(response.headers.get("Retry-After") || 1));
        if (options.onWait) options.onWait(wait);
        await sleep(wait * 1000);
        continue;
      }
      return { status: response.status, ok: response.ok, data, text };
    }
  }

  function errorMessage(result) {
    const error = result.data && result.data.error;
    return error ? `${result.status} ${error.code}: ${error.message}` : `${result.status} ${result.text}`;
  }

  const SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* Draw `faces` (Azure DetectedFace objects) over `img` into `overlay` (an <svg>).
   * `labels[i]` is written above face i (default "#i+1"). */
  function drawFaces(img, overlay, faces, labels) {
    const width = img.naturalWidth, height = img.naturalHeight;
    overlay.setAttribute("viewBox", `0 0 ${width} ${height}`);
    overlay.replaceChildren();
    const stroke = Math.max(2, Math.round(Math.max(width, height) / 300));
    faces.forEach((face, index) => {
      const r = face.faceRectangle;
      const group = svg("g", { class: "face", "data-face": String(index + 1) });
      group.append(svg("rect", { x: r.left, y: r.top, width: r.width, height: r.height,
                                 "stroke-width": stroke, class: "box" }));
      for (const point of Object.values(face.faceLandmarks || {})) {
        group.append(svg("circle", { cx: point.x, cy: point.y, r: stroke, class: "landmark" }));
      }
      const label = labels && labels[index] !== undefined ? labels[index] : `#${index + 1}`;
      const size = Math.max(14, Math.round(Math.max(width, height) / 40));
      group.append(svg("text", { x: r.left, y: Math.max(size, r.top - stroke * 2),
                                 "font-size": size, class: "label" }, label));
      overlay.append(group);
    });
  }

  function showImage(img, source) {
    return new Promise((resolve, reject) => {
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error("image"));
      img.src = source;
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    wireCopyButtons(document);
    wireDropzones(document);
    wireUsageRefresh();
  });

  return { t, el, api, announce, errorMessage, drawFaces, showImage, copyText, wireCopyButtons, sleep };
})();
