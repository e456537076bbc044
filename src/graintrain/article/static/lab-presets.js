// The lab's presets: runs whose failures teach something. While the form holds a preset's
// settings the page says what to look for, and once its run is done, what went wrong.

import { sameQuery } from "./lab-replay.js";

let registry = null;

// Buttons that open the runs whose failures teach something, each a link with its settings. While
// the form holds a preset's settings, what to look for is written under the buttons, and once its
// run is done, what went wrong, with the number from the run that shows it.
export function addPresets(from) {
  registry = from;
  const box = document.querySelector(".presets");
  for (const preset of registry.presets) {
    const link = document.createElement("a");
    link.href = `lab.html?${preset.query}`;
    link.textContent = preset.label;
    link.className = "preset";
    box.append(link);
  }
  box.hidden = registry.presets.length === 0;
}

function currentPreset() {
  const query = new URLSearchParams(location.search);
  query.delete("view");
  return registry?.presets?.find((p) => sameQuery(p.query, query.toString())) ?? null;
}

export function showPreset() {
  const preset = currentPreset();
  const about = document.querySelector(".preset-about");
  about.hidden = !preset;
  about.querySelector(".what").textContent = preset ? `${preset.label}: ${preset.about}` : "";
  about.querySelector(".lesson").hidden = true;
  for (const link of document.querySelectorAll(".presets .preset")) link.toggleAttribute("aria-current", link.textContent === preset?.label);
}

export function tellLesson(event) {
  const preset = currentPreset();
  const box = document.querySelector(".preset-about .lesson");
  if (!preset || event[preset.score] == null) return;
  const value = (v) => Number(v).toPrecision(3);
  const floor = preset.floor && event[preset.floor] != null ? `, against ${value(event[preset.floor])} for the noise alone` : "";
  box.textContent = `What went wrong: ${preset.lesson} Measured: ${preset.measure} is ${value(event[preset.score])}${floor}.`;
  box.hidden = false;
}
