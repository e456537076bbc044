// The lab's form, built from the registry: one field per setting, shown only where it applies,
// and every setting kept in the URL query, so a link reopens the same run.

import { urlState } from "./common.js";
import { threeD } from "./lab-plots.js";

export const form = document.querySelector(".lab-form");
const FIELDS = ["dataset", "model", "pace"];  // and one per run option, added from the registry
const NUMBERS = new Set();
const LISTS = new Set();  // written a,b,c and sent as a list of numbers
const DEFAULTS = new Map([["pace", "fast"]]);  // a value equal to its default stays out of the URL

let registry = null;

const state = urlState();

// A link holds every setting that differs from its default, so each setting it leaves out is set
// back to its default (the form's blank); the bare lab opens with the registry's opening run.
export function readURL() {
  const linked = state.get("model") !== null;
  const opening = linked ? {} : registry.defaults ?? {};
  for (const name of FIELDS) {
    const value = state.get(name) ?? opening[name];
    if (value != null) form.elements[name].value = value;
    else if (name === "pace") form.elements[name].value = DEFAULTS.get(name);
    else if (linked && name !== "model" && name !== "dataset") form.elements[name].value = "";
  }
  threeD.checked = state.get("view") === "3d";
}

export function writeURL() {
  for (const name of FIELDS) {
    const el = form.elements[name];
    const value = el.closest("label")?.hidden ? "" : el.value.trim();  // settings that do not apply stay out
    state.set(name, DEFAULTS.get(name) === value ? "" : value);
  }
  state.set("view", threeD.checked ? "3d" : "");
}

export function showRelevantFields() {
  const model = registry.models[form.elements.model.value];
  const dataset = form.elements.dataset.value;
  form.querySelector("[data-about=model]").textContent = model ? model.about : "";
  const upload = dataset === registry.upload;  // the reader's own CSV, not generated data
  form.querySelector("[data-about=dataset]").textContent = upload
    ? "Your own CSV: columns cups, darkness, water and an optional label." : registry.datasets[dataset]?.about ?? "";
  for (const el of form.querySelectorAll("[data-models]")) el.hidden = !el.dataset.models.split(" ").includes(form.elements.model.value);
  for (const el of form.querySelectorAll("[data-datasets]")) el.hidden = !el.dataset.datasets.split(" ").includes(dataset);
  // An option several datasets declare shows the chosen one's own default (m is 16 on a card, 8 on a mixed one).
  for (const option of registry.datasets[dataset]?.options ?? []) {
    const input = form.elements[option.name];
    if (input?.tagName !== "INPUT" || option.default === null) continue;
    input.placeholder = [option.default].flat().join(",");
    DEFAULTS.set(option.name, input.placeholder);  // so a typed default is left out of the link, for this dataset
  }
  for (const el of form.querySelectorAll("[data-for=generated]")) el.hidden = upload;
  form.querySelector(".upload").hidden = !upload;
}

export function settings(uploaded) {
  const out = {};
  for (const name of FIELDS) {
    const el = form.elements[name];
    if (el.closest("label")?.hidden) continue;
    const value = el.value.trim();
    if (value === "") continue;
    if (LISTS.has(name)) out[name] = value.split(",").map(Number);
    else out[name] = NUMBERS.has(name) ? Number(value) : value;
  }
  if (out.dataset === registry.upload) out.csv = uploaded ?? "";
  return out;
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

export function buildForm(from) {
  registry = from;
  const addOptions = (select, names) => { for (const name of names) select.add(new Option(name, name)); };
  addRunOptions();
  addOptions(form.elements.model, Object.keys(registry.models));
  addOptions(form.elements.dataset, Object.keys(registry.datasets));
  form.elements.dataset.add(new Option("upload your own CSV…", registry.upload));
}
