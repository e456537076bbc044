// The lab: a form built from the server's registries, a training job streamed over server-sent
// events, and plots of the loss, the fitted function and (for attention) the attention weights.
// Every setting lives in the URL query, so a link reopens the same run.

import { classColour, palette, themeLayout, urlState } from "./common.js";

const form = document.querySelector(".lab-form");
const plots = Object.fromEntries([...document.querySelectorAll("[data-plot]")].map((el) => [el.dataset.plot, el]));
const statusLine = form.querySelector(".status");
const errorLine = form.querySelector(".error");
const buttons = Object.fromEntries([...form.querySelectorAll("[data-act]")].map((el) => [el.dataset.act, el]));
const exportsBox = form.querySelector(".exports");
const threeD = document.querySelector("input[name=three_d]");
const FIELDS = ["dataset", "model", "pace"];  // and one per run option, added from the registry
const NUMBERS = new Set();
const LISTS = new Set();  // written a,b,c and sent as a list of numbers
const DEFAULTS = new Map([["pace", "fast"]]);  // a value equal to its default stays out of the URL

let registry = null;
const colourOf = (k) => classColour(job?.classes[k], k);  // a grain's own colour, else the k-th expert's
let job = null;       // {id, token, source, data, classes, losses: {x, y}, paused}
let uploaded = null;  // CSV text chosen by the reader

function layout(extra = {}) {
  return themeLayout(Object.assign({
    margin: { l: 50, r: 15, t: 30, b: 40 }, legend: { orientation: "h", y: -0.25 }, uirevision: "keep",
  }, extra));
}

function say(text) { statusLine.textContent = text; }
function fail(text) { errorLine.hidden = !text; errorLine.textContent = text || ""; }

const state = urlState();

function readURL() {
  for (const name of FIELDS) {
    const value = state.get(name);
    if (value !== null) form.elements[name].value = value;
  }
  threeD.checked = state.get("view") === "3d";
}

function writeURL() {
  for (const name of FIELDS) {
    const el = form.elements[name];
    const value = el.closest("label")?.hidden ? "" : el.value.trim();  // settings that do not apply stay out
    state.set(name, DEFAULTS.get(name) === value ? "" : value);
  }
  state.set("view", threeD.checked ? "3d" : "");
}

function showRelevantFields() {
  const model = registry.models[form.elements.model.value];
  const dataset = form.elements.dataset.value;
  form.querySelector("[data-about=model]").textContent = model ? model.about : "";
  form.querySelector("[data-about=dataset]").textContent = dataset === "upload"
    ? "Your own CSV: columns cups, darkness, water and an optional label." : registry.datasets[dataset]?.about ?? "";
  for (const el of form.querySelectorAll("[data-models]")) el.hidden = !el.dataset.models.split(" ").includes(form.elements.model.value);
  for (const el of form.querySelectorAll("[data-datasets]")) el.hidden = !el.dataset.datasets.split(" ").includes(dataset);
  for (const el of form.querySelectorAll("[data-for=generated]")) el.hidden = dataset === "upload";
  form.querySelector(".upload").hidden = dataset !== "upload";
}

function settings() {
  const out = {};
  for (const name of FIELDS) {
    const el = form.elements[name];
    if (el.closest("label")?.hidden) continue;
    const value = el.value.trim();
    if (value === "") continue;
    if (LISTS.has(name)) out[name] = value.split(",").map(Number);
    else out[name] = NUMBERS.has(name) ? Number(value) : value;
  }
  if (out.dataset === "upload") out.csv = uploaded ?? "";
  return out;
}

function explain(detail) {
  if (!Array.isArray(detail)) return String(detail);
  return detail.map((d) => {
    const where = d.loc.filter((p) => p !== "body").join(".");
    return `${where ? `${where}: ` : ""}${d.msg.replace(/^Value error, /, "")}`;
  }).join("; ");
}

function drawPoints(data, classes) {
  const traces = classes.map((name, k) => {
    const idx = data.label.map((l, i) => (l === k ? i : -1)).filter((i) => i >= 0);
    return threeD.checked
      ? { type: "scatter3d", mode: "markers", name, x: idx.map((i) => data.x[i]), y: idx.map((i) => data.z[i]),
          z: idx.map((i) => data.y[i]), marker: { size: 2.5, color: classColour(name, k) } }
      : { type: "scatter", mode: "markers", name, x: idx.map((i) => data.x[i]), y: idx.map((i) => data.y[i]),
          marker: { size: 5, color: classColour(name, k), opacity: 0.7 } };
  });
  return traces;
}

function drawFit(event) {
  if (!job || !event.grid) return;
  const { grid } = event;
  const points = drawPoints(job.data, job.classes);
  let model = [];
  if (event.probabilities) {
    model = event.probabilities.map((p, k) => ({ type: "scatter", mode: "lines", name: `p(${job.classes[k]})`,
      x: grid.z, y: p, line: { color: colourOf(k), width: 3 } }));
    Plotly.react(plots.fit, model, layout({ xaxis: { title: { text: "selector z (darkness)" } }, yaxis: { title: { text: "probability" }, range: [0, 1.05] } }));
    return;
  }
  if (threeD.checked) {
    model = [{ type: "surface", x: grid.x, y: grid.z, z: event.surface, opacity: 0.6, showscale: false, name: "model" }];
    Plotly.react(plots.fit, [...points, ...model], layout({ scene: { xaxis: { title: { text: "x (cups)" } }, yaxis: { title: { text: "z (selector)" } }, zaxis: { title: { text: "y" } } } }));
  } else {
    model = event.curves.map((c, k) => ({ type: "scatter", mode: "lines", name: `model at z = ${c.z}`,
      x: grid.x, y: c.y, line: { color: colourOf(k), width: 3 } }));
    Plotly.react(plots.fit, [...points, ...model], layout({ xaxis: { title: { text: "x (cups)" } }, yaxis: { title: { text: "y (water)" } } }));
  }
  plots.weights.hidden = !event.weights;
  if (event.weights) {
    Plotly.react(plots.weights, event.weights.map((w, k) => ({ type: "scatter", mode: "lines", name: `expert ${k + 1}`,
      x: grid.z, y: w, line: { color: palette.experts[k % palette.experts.length] } })), layout({ title: { text: "attention weights", font: { size: 13 } }, xaxis: { title: { text: "selector z" } }, yaxis: { range: [-0.05, 1.05] } }));
  }
}

const MAX_LOSS_POINTS = 4000;

function addLosses(event) {
  // Keep every stride-th step; when the curve grows past MAX_LOSS_POINTS, halve it and double the
  // stride, so a 20,000-step run draws as fast as a 200-step one.
  const first = event.step - event.losses.length + 1;
  event.losses.forEach((loss, i) => {
    const step = first + i;
    if (step % job.stride === 0 || step === event.total) { job.losses.x.push(step); job.losses.y.push(loss); }
  });
  if (job.losses.x.length > MAX_LOSS_POINTS) {
    job.stride *= 2;
    const keep = (_, i) => i % 2 === 1;
    job.losses.x = job.losses.x.filter(keep);
    job.losses.y = job.losses.y.filter(keep);
  }
  job.logLoss = job.losses.y.every((v) => v > 0);  // the mixture likelihood can go below zero
}

const LOSS_NAMES = { mse: "squared error", mixture: "mixture likelihood", "cross-entropy": "cross-entropy", labelled: "labelled loss" };

// Each stage of the recipe marked where it starts, named by what it minimises and how: the curve
// jumps there because the loss itself changes (the mixture likelihood is not the squared error).
function stageMarks() {
  const shapes = [];
  const annotations = [];
  let at = 0;
  for (let start = 0; start < (job.starts || 1); start += 1) {
    for (const stage of job.stages || []) {
      if (at > 0) shapes.push({ type: "line", xref: "x", yref: "paper", x0: at, x1: at, y0: 0, y1: 1, line: { dash: "dot", width: 1, color: "#888" } });
      if (start === 0 && job.stages.length > 1) {
        annotations.push({ xref: "x", yref: "paper", x: at, y: 1, xanchor: "left", yanchor: "top", showarrow: false, font: { size: 10 },
          text: `${stage.optimizer}${stage.only ? ` (${stage.only} only)` : ""}, ${LOSS_NAMES[stage.objective] ?? stage.objective}` });
      }
      at += stage.steps;
    }
  }
  return { shapes, annotations };
}

function drawLoss() {
  // Fresh arrays each time: Plotly.react redraws only data it sees change.
  const names = [...new Set((job.stages || []).map((s) => LOSS_NAMES[s.objective] ?? s.objective))];
  Plotly.react(plots.loss, [{ type: "scatter", mode: "lines", x: [...job.losses.x], y: [...job.losses.y], name: "loss" }],
    layout({ xaxis: { title: { text: "step" } }, yaxis: { title: { text: `training loss (${names.join(", then ") || "objective"})` }, type: job.logLoss ? "log" : "linear" },
      showlegend: false, ...stageMarks() }));
}

function scheduleDraw() {
  // Updates can arrive faster than the page paints: draw the latest once per animation frame.
  if (job.drawing) return;
  job.drawing = requestAnimationFrame(() => {
    job.drawing = 0;
    drawLoss();
    drawFit(job.last);
  });
}

// Where a step lies in a run of several starts: "start 2 of 5, step 300 of 600".
function stepText(step) {
  if (!job.starts || job.starts === 1) return `step ${step} of ${job.perStart ?? "?"}`;
  const start = Math.min(job.starts, Math.floor((step - 1) / job.perStart) + 1);
  return `start ${start} of ${job.starts}, step ${step - (start - 1) * job.perStart} of ${job.perStart}`;
}

function finish(text, exportable) {
  job.source.close();
  buttons.train.disabled = false;
  buttons.pause.disabled = true;
  buttons.stop.disabled = true;
  buttons.pause.textContent = "Pause";
  say(text);
  document.body.dataset.job = job.last?.type === "done" ? "done" : "ended";
  if (exportable) {  // done, or stopped part-way: the model as it stood
    exportsBox.hidden = false;
    const base = `api/jobs/${job.id}/model`;
    const token = `?token=${encodeURIComponent(job.token)}`;
    exportsBox.querySelector("[data-export=pt]").href = base + token;
    exportsBox.querySelector("[data-export=json]").href = `${base}.json${token}`;
  }
}

function listen(id, token) {
  // The token marks this page as the job's owner: only its own leaving stops the job.
  const source = new EventSource(`api/jobs/${id}/events?token=${encodeURIComponent(token)}`);
  job = { id, token, source, data: null, classes: [], losses: { x: [], y: [] }, stride: 1, last: null, updates: 0, drawing: 0 };
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    job.last = event;
    document.body.dataset.updates = String(++job.updates);
    if (event.type === "queued") say(`Waiting: place ${event.position} in the queue.`);
    if (event.type === "started") {
      job.data = event.points;
      job.classes = event.classes;
      job.starts = event.starts;
      job.perStart = event.per_start;
      job.stages = event.stages;
      say(`Training ${event.model} (${event.num_parameters} parameters) on ${event.dataset}…`);
    }
    if (event.type === "progress" || event.type === "done") {
      if (event.losses) addLosses(event);
      scheduleDraw();
      document.body.dataset.step = String(event.step);
      document.body.dataset.loss = String(event.loss);
    }
    // A page that connects after the job ended gets progress without the fitted function: skip what is missing.
    if (event.type === "progress") say(`${stepText(event.step).replace(/^./, (c) => c.toUpperCase())}, loss ${event.loss.toPrecision(4)}, ${(event.seconds ?? 0).toFixed(1)} s`);
    if (event.type === "paused") say(`Paused at ${stepText(Number(document.body.dataset.step))}.`);
    if (event.type === "done") {
      const score = event.train_mse !== undefined
        ? `train MSE ${event.train_mse.toFixed(4)}, test MSE ${event.test_mse.toFixed(4)}` +
          (event.extrapolation_mse != null ? `, beyond the training range ${event.extrapolation_mse.toFixed(4)}` : "")
        : `train accuracy ${(100 * event.train_accuracy).toFixed(1)}%, test ${(100 * event.test_accuracy).toFixed(1)}%`;
      document.body.dataset.result = JSON.stringify(event.train_mse ?? event.train_accuracy);
      finish(`Done in ${event.seconds.toFixed(2)} s: ${score}, ${event.num_parameters} parameters.`, true);
    }
    if (event.type === "error") { fail(event.message); finish("Training failed.", false); }
    if (event.type === "stopped") finish(`Stopped: ${event.message}.`, event.exportable);
  };
  source.onerror = () => { if (job?.source === source && source.readyState === EventSource.CLOSED) finish("Lost the connection to the server.", false); };
}

async function train(submitEvent) {
  submitEvent.preventDefault();
  fail("");
  exportsBox.hidden = true;
  writeURL();
  if (form.elements.dataset.value === "upload" && !uploaded) { notStarted("Choose a CSV file first."); return; }
  let response, body;
  try {
    response = await fetch("api/jobs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(settings()) });
    body = await response.json();
  } catch {
    notStarted(`The server did not answer${response ? ` (HTTP ${response.status})` : ""}.`);
    return;
  }
  if (response.status === 429) { notStarted(`The lab is busy: ${body.detail}`); return; }
  if (!response.ok) { notStarted(explain(body.detail)); return; }
  buttons.train.disabled = true;
  buttons.pause.disabled = false;
  buttons.stop.disabled = false;
  document.body.dataset.job = "running";
  listen(body.id, body.token);
}

// A run that did not start leaves nothing of the previous one on the page.
function notStarted(why) {
  fail(why);
  say("Not started: see the message below.");
  for (const name of ["fit", "loss", "weights"]) Plotly.purge(plots[name]);
  delete document.body.dataset.result;
  document.body.dataset.job = "refused";
}

// One form field per run option in the registry, in its group, shown only where it applies.
function addRunOptions() {
  for (const option of registry.options) {
    const label = document.createElement("label");
    if (option.datasets) label.dataset.datasets = option.datasets.join(" ");
    else if (option.group === "data") label.dataset.for = "generated";
    if (option.models) label.dataset.models = option.models.join(" ");
    label.title = option.help;
    let input;
    if (option.kind === "choice") {
      input = document.createElement("select");
      const unset = option.group === "training" ? "the model's recipe" : "default";
      input.add(new Option(option.default === null ? unset : `default (${option.default})`, ""));
      for (const choice of option.choices) input.add(new Option(choice, choice));
    } else {
      input = document.createElement("input");
      if (option.kind === "floats" || option.kind === "ints") {
        input.placeholder = option.default ? option.default.join(",") : "a,b,…";
        // escaped for the v-flag regexes that patterns use
        input.pattern = option.kind === "ints" ? "\\d+(,\\d+)*" : "[\\d.eE+\\-]+(,[\\d.eE+\\-]+)*";
        LISTS.add(option.name);
      } else {
        input.type = "number";
        input.step = option.kind === "int" ? "1" : "any";
        if (option.low !== null) input.min = option.low;
        if (option.high !== null) input.max = option.high;
        input.placeholder = option.default ?? "default";
        NUMBERS.add(option.name);
      }
    }
    if (option.default !== null) DEFAULTS.set(option.name, String(option.default));
    input.name = option.name;
    label.append(`${option.label} `, input);
    form.querySelector(`.options[data-group=${option.group}]`).before(label);
    FIELDS.push(option.name);
  }
}

async function init() {
  try {
    const response = await fetch("api/registry");
    if (!response.ok) throw new Error(response.statusText);
    registry = await response.json();
  } catch {
    document.querySelector(".lab-offline").hidden = false;
    for (const el of form.elements) el.disabled = true;
    document.body.dataset.ready = "offline";
    return;
  }
  const addOptions = (select, names) => { for (const name of names) select.add(new Option(name, name)); };
  addRunOptions();
  addOptions(form.elements.model, Object.keys(registry.models));
  addOptions(form.elements.dataset, Object.keys(registry.datasets));
  form.elements.dataset.add(new Option("upload your own CSV…", "upload"));
  form.elements.model.value = "attention";
  form.elements.dataset.value = "three-grains";
  addPresets();
  const params = new URLSearchParams(location.search);
  const linked = params.has("model") && params.get("dataset") !== "upload";  // a permalink trains at once
  readURL();
  showRelevantFields();
  form.addEventListener("change", () => {
    showRelevantFields();
    writeURL();
    if (!job?.source || job.source.readyState === EventSource.CLOSED) schedulePreview();
  });
  form.addEventListener("submit", train);
  form.elements.file.addEventListener("change", async () => {
    const file = form.elements.file.files[0];
    uploaded = file ? await file.text() : null;
    schedulePreview();
  });
  threeD.addEventListener("change", () => { writeURL(); if (job?.last) drawFit(job.last); });
  const own = (path = "") => `api/jobs/${job.id}${path}?token=${encodeURIComponent(job.token)}`;
  buttons.stop.addEventListener("click", () => fetch(own(), { method: "DELETE" }));
  buttons.pause.addEventListener("click", async () => {
    const paused = buttons.pause.textContent === "Resume";
    await fetch(own(`/${paused ? "resume" : "pause"}`), { method: "POST" });
    buttons.pause.textContent = paused ? "Pause" : "Resume";
  });
  for (const button of exportsBox.querySelectorAll("[data-image]")) {
    button.addEventListener("click", () => Plotly.downloadImage(plots.fit, { format: button.dataset.image, filename: "graintrain-lab", width: 900, height: 600 }));
  }
  document.body.dataset.ready = "true";
  if (linked) form.requestSubmit();
  else preview();
}

// The data the settings name, drawn before any training, so the reader sees what the model will see.
let previewTimer = 0;
function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, 250);
}

async function preview() {
  if (form.elements.dataset.value === "upload" && !uploaded) return;
  try {
    const response = await fetch("api/preview", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(settings()) });
    const body = await response.json();
    if (!response.ok) { fail(explain(body.detail)); return; }
    if (job?.source && job.source.readyState !== EventSource.CLOSED) return;  // a run began meanwhile
    fail("");
    const traces = drawPoints(body.points, body.classes);
    Plotly.react(plots.fit, traces, layout(threeD.checked
      ? { scene: { xaxis: { title: { text: "x (cups)" } }, yaxis: { title: { text: "z (selector)" } }, zaxis: { title: { text: "y" } } } }
      : { xaxis: { title: { text: "x (cups)" } }, yaxis: { title: { text: "y (water)" } } }));
    document.body.dataset.preview = String(body.points.x.length);
  } catch { /* the form still trains; the preview is only a courtesy */ }
}

// Buttons that open the runs whose failures teach something, each a link with its settings.
function addPresets() {
  const box = document.querySelector(".presets");
  for (const preset of registry.presets) {
    const link = document.createElement("a");
    link.href = `lab.html?${preset.query}`;
    link.textContent = preset.label;
    link.title = preset.about;
    link.className = "preset";
    box.append(link);
  }
  box.hidden = registry.presets.length === 0;
}

init();
