/* Try it: one Detect call with the chosen resource's key (it counts as a call, like any
 * client's), then the photo with boxes and landmarks, a table of attributes per face, the raw
 * JSON and the equivalent curl and Python snippets. */
"use strict";

(() => {
  const form = document.getElementById("try-form");
  if (!form) return;
  const { t, el, api, announce, errorMessage, drawFaces, showImage } = Studio;
  const endpoint = form.dataset.endpoint;
  const status = document.getElementById("try-status");
  const fileInput = document.getElementById("photo");
  const urlInput = document.getElementById("image-url");

  function source() {
    return form.querySelector("input[name=source]:checked").value;
  }

  for (const radio of form.querySelectorAll("input[name=source]")) {
    radio.addEventListener("change", () => {
      const url = source() === "url";
      document.getElementById("url-source").hidden = !url;
      document.getElementById("file-source").hidden = url;
    });
  }

  function query() {
    const attributes = [...form.querySelectorAll("input[name=attribute]:checked")].map((box) => box.value);
    const params = { returnFaceId: "true" };
    if (document.getElementById("want-landmarks").checked) params.returnFaceLandmarks = "true";
    if (attributes.length) params.returnFaceAttributes = attributes.join(",");
    // Azure computes qualityForRecognition only for the newer recognition models.
    if (attributes.includes("qualityForRecognition")) params.recognitionModel = "recognition_04";
    return params;
  }

  function format(value) {
    if (value === null || value === undefined) return "";
    if (Array.isArray(value)) return value.map(format).join("; ");
    if (typeof value === "object") {
      return Object.entries(value).map(([name, item]) =>
        typeof item === "object" && item !== null ? `${name}: (${format(item)})` : `${name} ${format(item)}`).join(", ");
    }
    return String(value);
  }

  function fillTable(faces) {
    const body = document.querySelector("#faces tbody");
    body.replaceChildren();
    faces.forEach((face, index) => {
      const r = face.faceRectangle;
      const rect = `left ${r.left}, top ${r.top}, ${r.width}×${r.height}`;
      const attributes = Object.entries(face.faceAttributes || {});
      const rows = attributes.length ? attributes : [["—", ""]];
      rows.forEach(([name, value], row) => {
        const tr = el("tr", { "data-face": String(index + 1) });
        if (row === 0) {
          tr.append(el("th", { scope: "row", rowspan: String(rows.length), text: `#${index + 1}` }),
                    el("td", { rowspan: String(rows.length), class: "mono", text: rect }));
        }
        tr.append(el("td", {}, el("code", { text: name })), el("td", { class: "value", text: format(value) }));
        body.append(tr);
      });
    });
  }

  function shellQuote(text) {
    return "'" + text.split("'").join("'\\''") + "'";
  }

  function snippets(key, params, url, fileName) {
    const requestUrl = new URL("face/v1.0/detect", endpoint);
    for (const [name, value] of Object.entries(params)) requestUrl.searchParams.set(name, value);
    const curl = [`curl -X POST "${requestUrl}"`, `  -H "Ocp-Apim-Subscription-Key: ${key}"`];
    if (url) {
      curl.push(`  -H "Content-Type: application/json"`, `  --data ${shellQuote(JSON.stringify({ url }))}`);
    } else {
      curl.push(`  -H "Content-Type: application/octet-stream"`, `  --data-binary ${shellQuote("@" + fileName)}`);
    }
    const py = [
      "import requests",
      "",
      `endpoint = ${JSON.stringify(endpoint)}`,
      `subscription_key = ${JSON.stringify(key)}`,
      `face_api_url = endpoint.rstrip("/") + "/face/v1.0/detect"`,
      `params = ${JSON.stringify(params)}`,
      `headers = {"Ocp-Apim-Subscription-Key": subscription_key}`,
    ];
    if (url) {
      py.push(`response = requests.post(face_api_url, params=params, headers=headers,`,
              `                         json={"url": ${JSON.stringify(url)}})`);
    } else {
      py.push(`headers["Content-Type"] = "application/octet-stream"`,
              `with open(${JSON.stringify(fileName)}, "rb") as image:`,
              `    response = requests.post(face_api_url, params=params, headers=headers, data=image)`);
    }
    py.push("response.raise_for_status()", "print(response.json())");
    document.getElementById("snippet-curl").textContent = curl.join(" \\\n");
    document.getElementById("snippet-python").textContent = py.join("\n");
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const option = document.getElementById("resource").selectedOptions[0];
    const key = option.dataset.key;
    const params = query();
    let url = null, file = null;
    if (source() === "url") {
      url = urlInput.value.trim();
      if (!url) { status.textContent = t("js.need_url"); urlInput.focus(); return; }
    } else {
      file = fileInput.files[0];
      if (!file) { status.textContent = t("js.need_file"); fileInput.focus(); return; }
    }
    const button = document.getElementById("run");
    button.disabled = true;
    status.textContent = t("js.working");
    document.getElementById("face-count").textContent = "";
    try {
      const result = await api(endpoint, key, "POST", "face/v1.0/detect", {
        query: params, json: url ? { url } : undefined, body: file || undefined,
        onWait: (seconds) => { status.textContent = t("js.rate_wait", { seconds }); },
      });
      const results = document.getElementById("results");
      results.hidden = false;
      document.getElementById("raw").textContent = result.data ? JSON.stringify(result.data, null, 2) : result.text;
      snippets(key, params, url, file ? file.name : null);
      if (!result.ok) {
        status.textContent = errorMessage(result);
        document.getElementById("face-count").textContent = errorMessage(result);
        document.querySelector("#faces tbody").replaceChildren();
        document.getElementById("overlay").replaceChildren();
        return;
      }
      const faces = result.data;
      const img = document.getElementById("photo-view");
      await showImage(img, url || URL.createObjectURL(file));
      drawFaces(img, document.getElementById("overlay"), faces);
      fillTable(faces);
      const message = t(faces.length === 1 ? "js.one_face" : "js.faces", { n: faces.length });
      document.getElementById("face-count").textContent = message;
      status.textContent = message;
      announce(message);
    } catch (error) {
      status.textContent = t("js.failed", { message: String(error) });
    } finally {
      button.disabled = false;
    }
  });
})();
