// The lab: a training job streamed over server-sent events (or, in a static copy, a replay of a
// figure's run), drawn as it comes. The form is in lab-form.js, the plots in lab-plots.js.

import { buildForm, form, readURL, settings, showRelevantFields, writeURL } from "./lab-form.js";
import { addLosses, drawFit, drawLoss, plots, showData, showPhotos, threeD } from "./lab-plots.js";
import { addPresets, showPreset, tellLesson } from "./lab-presets.js";
import { play, sameQuery } from "./lab-replay.js";

const statusLine = form.querySelector(".status");
const errorLine = form.querySelector(".error");
const buttons = Object.fromEntries([...form.querySelectorAll("[data-act]")].map((el) => [el.dataset.act, el]));
const exportsBox = form.querySelector(".exports");
let registry = null;  // what the server (or the static copy) offers
let job = null;       // {id, token, source, data, classes, losses: {x, y}, paused}
let uploaded = null;  // CSV text chosen by the reader

function say(text) { statusLine.textContent = text; }
function sayPaused() { say(`Paused at ${stepText(Number(document.body.dataset.step ?? 0))}. Press Resume to go on.`); }
function fail(text) { errorLine.hidden = !text; errorLine.textContent = text || ""; }

function explain(detail) {
  if (!Array.isArray(detail)) return String(detail);
  return detail.map((d) => {
    const where = d.loc.filter((p) => p !== "body").join(".");
    return `${where ? `${where}: ` : ""}${d.msg.replace(/^Value error, /, "")}`;
  }).join("; ");
}

function scheduleDraw() {
  // Updates can arrive faster than the page paints: draw the latest once per animation frame.
  if (job.drawing) return;
  job.drawing = requestAnimationFrame(() => {
    job.drawing = 0;
    drawLoss(job);
    drawFit(job, job.last);
  });
}

// Where a step lies in a run of several starts: "start 2 of 5, step 300 of 600".
function stepText(step) {
  if (!job.starts || job.starts === 1) return `step ${step} of ${job.perStart ?? "?"}`;
  const start = Math.min(job.starts, Math.floor((step - 1) / job.perStart) + 1);
  return `start ${start} of ${job.starts}, step ${step - (start - 1) * job.perStart} of ${job.perStart}`;
}

function finish(text, exportable) {
  job.source?.close();
  clearTimeout(job.timer);
  buttons.train.disabled = Boolean(job.replay);  // a static copy cannot train
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

// The settings that make a run what it is, in a few words: model, data, and whatever else was set.
function describe(sent) {
  const rest = Object.entries(sent).filter(([k]) => !["model", "dataset", "pace", "csv"].includes(k));
  return [sent.model, sent.dataset, ...rest.map(([k, v]) => `${k} ${v}`)].join(", ");
}

function listen(id, token, sent) {
  // The token marks this page as the job's owner: only its own leaving stops the job.
  const source = new EventSource(`api/jobs/${id}/events?token=${encodeURIComponent(token)}`);
  const previous = job?.losses.x.length ? { x: job.losses.x, y: job.losses.y, label: job.label } : null;
  job = newJob({ id, token, source, previous, label: describe(sent) });
  source.onmessage = (message) => handle(JSON.parse(message.data));
  source.onerror = () => { if (job?.source === source && source.readyState === EventSource.CLOSED) finish("Lost the connection to the server.", false); };
}

function newJob(fields) {
  return { data: null, classes: [], losses: { x: [], y: [] }, stride: 1, last: null, updates: 0, drawing: 0, ...fields };
}

// One event of a run, streamed live or replayed from the static export's files.
function handle(event) {
  job.last = event;
  document.body.dataset.updates = String(++job.updates);
  if (event.type === "queued") say(`Waiting: place ${event.position} in the queue.`);
  if (event.type === "started") {
    job.data = event.points;
    job.classes = event.classes;
    showPhotos(event.points, event.classes);
    job.starts = event.starts;
    job.perStart = event.per_start;
    job.stages = event.stages;
    const k = event.experts_found;  // an upload without labels: attention counted its lines
    job.found = k ? `; it found ${k} line${k > 1 ? "s" : ""} in the data and gave each an expert` : "";
    say(`${job.replay ? "Replaying" : "Training"} ${event.model} (${event.num_parameters} parameters${job.found}) on ${event.dataset}…`);
  }
  if (event.type === "progress" || event.type === "done") {
    if (event.losses) addLosses(job, event);
    scheduleDraw();
    document.body.dataset.step = String(event.step);
    document.body.dataset.loss = String(event.loss);
  }
  // A page that connects after the job ended gets progress without the fitted function: skip what is missing.
  // An update already on its way when Pause was pressed must not hide that the run is paused.
  if (event.type === "progress" && !job.paused) say(`${stepText(event.step).replace(/^./, (c) => c.toUpperCase())}, loss ${event.loss.toPrecision(4)}, ${(event.seconds ?? 0).toFixed(1)} s`);
  if (event.type === "paused" || (event.type === "progress" && job.paused)) sayPaused();
  if (event.type === "done") {
    const score = event.train_mse !== undefined
      ? `train MSE ${event.train_mse.toFixed(4)}, test MSE ${event.test_mse.toFixed(4)}` +
        (event.extrapolation_mse != null ? `, beyond the training range ${event.extrapolation_mse.toFixed(4)}` : "")
      : `train accuracy ${(100 * event.train_accuracy).toFixed(1)}%, test ${(100 * event.test_accuracy).toFixed(1)}%`;
    document.body.dataset.result = JSON.stringify(event.train_mse ?? event.train_accuracy);
    const how = job.replay ? `Replayed a run trained in ${event.seconds.toFixed(2)} s when this copy was built` : `Done in ${event.seconds.toFixed(2)} s`;
    finish(`${how}: ${score}, ${event.num_parameters} parameters${job.found ?? ""}.`, !job.replay);
    tellLesson(event);
  }
  if (event.type === "error") { fail(event.message); finish("Training failed.", false); }
  if (event.type === "stopped") finish(`Stopped: ${event.message}.`, event.exportable);
}

async function train(submitEvent) {
  submitEvent.preventDefault();
  document.body.dataset.job = "starting";  // at once: what was done before is not this run
  fail("");
  exportsBox.hidden = true;
  clearTimeout(previewTimer);
  previewing += 1;  // the run draws the data itself: a preview still on its way must not cover it
  writeURL();
  if (form.elements.dataset.value === registry.upload && !uploaded) { notStarted("Choose a CSV file first."); return; }
  let response, body, sent;
  try {
    sent = settings(uploaded);
    response = await fetch("api/jobs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(sent) });
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
  listen(body.id, body.token, sent);
}

// A run that did not start leaves nothing of the previous one on the page.
function notStarted(why) {
  fail(why);
  say("Not started: see the message below.");
  for (const name of ["fit", "loss", "weights"]) Plotly.purge(plots[name]);
  delete document.body.dataset.result;
  document.body.dataset.job = "refused";
}

function wirePlots() {
  threeD.addEventListener("change", () => { writeURL(); if (job?.last) drawFit(job, job.last); });
  for (const button of exportsBox.querySelectorAll("[data-image]")) {
    button.addEventListener("click", () => Plotly.downloadImage(plots.fit, { format: button.dataset.image, filename: "graintrain-lab", width: 900, height: 600 }));
  }
}

async function init() {
  // A static copy answers this address with a file: the registry and the runs it can replay.
  try {
    const response = await fetch("api/registry");
    if (!response.ok) throw new Error(response.statusText);
    registry = await response.json();
  } catch {
    offline(null);
    return;
  }
  if (registry.replays) {
    offline({ registry, runs: registry.replays });
    return;
  }
  buildForm(registry);
  wirePlots();
  addPresets(registry);
  const params = new URLSearchParams(location.search);
  // A permalink trains at once when it was followed from this site's own pages (a figure's lab
  // link); from anywhere else it fills the form and waits for Train, so that no other site can
  // spend this server's cores by linking to it.
  const ours = document.referrer !== "" && new URL(document.referrer).origin === location.origin;
  const linked = params.has("model") && params.get("dataset") !== registry.upload;
  const started = linked && ours;
  readURL();
  showRelevantFields();
  showPreset();
  form.addEventListener("change", () => {
    showRelevantFields();
    writeURL();
    showPreset();
    if (!job?.source || job.source.readyState === EventSource.CLOSED) schedulePreview();
  });
  form.addEventListener("submit", train);
  form.elements.file.addEventListener("change", async () => {
    const file = form.elements.file.files[0];
    uploaded = file ? await file.text() : null;
    schedulePreview();
  });
  const own = (path = "") => `api/jobs/${job.id}${path}?token=${encodeURIComponent(job.token)}`;
  buttons.stop.addEventListener("click", () => fetch(own(), { method: "DELETE" }));
  buttons.pause.addEventListener("click", async () => {
    const paused = buttons.pause.textContent === "Resume";
    job.paused = !paused;
    buttons.pause.textContent = paused ? "Pause" : "Resume";
    document.body.dataset.paused = String(job.paused);
    if (job.paused) sayPaused();
    await fetch(own(`/${paused ? "resume" : "pause"}`), { method: "POST" });
  });
  document.body.dataset.ready = "true";
  if (started) form.requestSubmit();
  else preview();
  if (linked && !started) say("These settings came from a link: press Train to run them.");
}

// No server: the form shows each replayed run's settings, and only the runs behind the article's
// figures, written by `graintrain build`, can be played. A figure's lab link plays its own run.
function offline(found) {
  document.querySelector(".lab-offline").hidden = false;
  document.body.dataset.ready = "offline";
  if (found) {
    registry = found.registry;
    buildForm(registry);
    wirePlots();
    const box = document.querySelector(".replays");
    const select = box.querySelector("select");
    found.runs.forEach((run, i) => select.add(new Option(run.label, String(i))));
    box.hidden = false;
    // The form always shows the settings of the run chosen in the list, so it matches what plays.
    const show = () => {
      const entry = found.runs[Number(select.value)];
      history.replaceState(null, "", `${location.pathname}?${entry.query}`);
      readURL();
      showRelevantFields();
      return entry;
    };
    select.addEventListener("change", show);
    const start = () => {
      const entry = show();
      if (job) job.stopped = true;
      clearTimeout(job?.timer);
      fail("");
      exportsBox.hidden = true;
      job = newJob({ replay: true });
      document.body.dataset.job = "running";
      say(`Replaying ${entry.label}…`);
      play(entry, handle, job, registry.events.watch_seconds);
    };
    box.querySelector("button").addEventListener("click", start);
    const linked = found.runs.findIndex((run) => sameQuery(run.query, location.search.slice(1)));
    document.body.dataset.ready = "replays";
    if (linked >= 0) { select.value = String(linked); start(); } else show();
  }
  for (const el of form.elements) el.disabled = true;
}

// The data the settings name, drawn before any training, so the reader sees what the model will see.
let previewTimer = 0;
let previewing = 0;  // bumped by each preview and each run: an answer that arrives late is dropped
function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, 250);
}

async function preview() {
  if (form.elements.dataset.value === registry.upload && !uploaded) return;
  const mine = ++previewing;
  try {
    const response = await fetch("api/preview", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(settings(uploaded)) });
    const body = await response.json();
    if (mine !== previewing) return;  // a run (or a newer preview) began meanwhile
    if (response.status === 429) { schedulePreview(); return; }  // the server is busy drawing others: again shortly
    if (!response.ok) { fail(explain(body.detail)); return; }
    fail("");
    showData(body.points, body.classes);
    if (body.sample_of) say(`Showing ${body.points.x.length.toLocaleString("en")} points made the same way as the ${body.sample_of.toLocaleString("en")} a run trains on.`);
    document.body.dataset.preview = String(body.points.x.length);
  } catch { /* the form still trains; the preview is only a courtesy */ }
}

init();
