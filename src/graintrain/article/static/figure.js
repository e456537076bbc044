// One figure: the Plotly plot, its training replay, and any interactive controls.
// Control state is kept in the URL query (e.g. ?line-refresher.w=2.1), so a link reproduces a view.

import { setupCard, setupLookup } from "./cards.js";
import { legendAtFoot, legible, roomForModebar, stackPanels, themeLayout, urlState } from "./common.js";
import { fitScenes } from "./scenes.js";

const FRAME_MS = 160;

function setupReplay(figure, plot, frames) {
  const box = figure.querySelector(".replay");
  if (!box || frames.length === 0) return;
  const scrub = box.querySelector("[data-act=scrub]");
  const label = box.querySelector(".frame");
  const play = box.querySelector("[data-act=play]");
  scrub.max = String(frames.length - 1);
  let index = frames.length - 1;
  let timer = null;

  const values = [...figure.querySelectorAll(".stats dd")];
  const stats = figure.querySelector(".stats");
  const show = (i) => {
    index = Math.max(0, Math.min(frames.length - 1, i));
    const frame = frames[index];
    for (const [trace, update] of Object.entries(frame.traces)) {
      Plotly.restyle(plot, update, [Number(trace)]);
    }
    // The numbers beside the plot follow the frame; where a figure has none per frame, they are
    // marked as the trained values while an earlier step is shown.
    if (frame.stats) frame.stats.forEach(([, value], k) => { if (values[k]) values[k].textContent = value; });
    else stats.dataset.after = index < frames.length - 1 ? "training" : "";
    figure.dispatchEvent(new CustomEvent("gt-frame", { detail: frame }));  // for figures that redraw themselves
    scrub.value = String(index);
    label.textContent = `step ${frame.step} · loss ${frame.loss.toPrecision(4)}`;
    figure.dataset.frame = String(index);
  };
  const stop = () => {
    clearInterval(timer);
    timer = null;
    play.textContent = "Play";
    play.setAttribute("aria-pressed", "false");
  };
  const start = () => {
    if (index >= frames.length - 1) show(0);
    play.textContent = "Pause";
    play.setAttribute("aria-pressed", "true");
    timer = setInterval(() => (index >= frames.length - 1 ? stop() : show(index + 1)), FRAME_MS);
  };
  play.addEventListener("click", () => (timer ? stop() : start()));
  box.querySelector("[data-act=step]").addEventListener("click", () => { stop(); show(index + 1); });
  box.querySelector("[data-act=reset]").addEventListener("click", () => { stop(); show(0); });
  scrub.addEventListener("input", () => { stop(); show(Number(scrub.value)); });
  label.textContent = `step ${frames[index].step} · loss ${frames[index].loss.toPrecision(4)}`;
  scrub.value = String(index);
}

function setupRefresher(figure, plot, controls) {
  const state = urlState(figure.dataset.figure);
  const inputs = Object.fromEntries([...figure.querySelectorAll("[data-param]")].map((el) => [el.dataset.param, el]));
  const mseOut = figure.querySelector("[data-mse]");
  const update = () => {
    const w = Number(inputs.w.value);
    const b = Number(inputs.b.value);
    for (const el of Object.values(inputs)) el.nextElementSibling.textContent = Number(el.value).toFixed(2);
    Plotly.restyle(plot, { x: [[0, 4.5]], y: [[b, 4.5 * w + b]] }, [controls.trace]);
    let total = 0;
    controls.x.forEach((x, i) => { total += (w * x + b - controls.y[i]) ** 2; });
    const mse = total / controls.x.length;
    mseOut.textContent = mse.toFixed(4);
    figure.dataset.mse = String(mse);
  };
  inputs.w.value = state.get("w") ?? controls.w;
  inputs.b.value = state.get("b") ?? controls.b;
  for (const [key, el] of Object.entries(inputs)) {
    el.addEventListener("input", () => { state.set(key, el.value); update(); });
  }
  figure.querySelector("[data-best]").addEventListener("click", () => {
    [inputs.w.value, inputs.b.value] = controls.best;
    state.set("w", inputs.w.value);
    state.set("b", inputs.b.value);
    update();
  });
  update();
}

function setupSwitch(figure, plot, controls) {
  const state = urlState(figure.dataset.figure);
  const sliders = [...figure.querySelectorAll("[data-p]")];
  const cups = figure.querySelector("[data-cups]");
  const passing = figure.querySelector("[data-passing]");
  const names = ["white rice", "brown rice", "franken-grain"];
  for (const c of controls.cups) cups.add(new Option(`${c} cups`, String(c)));
  const update = () => {
    const raw = sliders.map((s) => Number(s.value));
    const sum = raw.reduce((a, b) => a + b, 0) || 1;
    const p = raw.map((v) => v / sum);  // probabilities always add up to one
    sliders.forEach((s, k) => { s.nextElementSibling.textContent = p[k].toFixed(2); });
    let best = 0;
    let bestDistance = Infinity;
    controls.grid.forEach((g, i) => {
      const d = Math.abs(g[0] - p[0]) + Math.abs(g[1] - p[1]) + Math.abs(g[2] - p[2]);
      if (d < bestDistance) { bestDistance = d; best = i; }
    });
    const c = controls.cups.indexOf(Number(cups.value));
    const passed = controls.passed[best][c];
    const total = passed.reduce((a, b) => a + b, 0);
    Plotly.restyle(plot, { y: [[...passed, total]] }, [0]);
    const on = names.filter((_, k) => passed[k] > 0);
    passing.textContent = on.length
      ? `Passing: ${on.join(" and ")}. Total ${total.toFixed(2)} cups of water.`
      : "Every unit is held off: no water at all.";
    figure.dataset.passed = JSON.stringify(passed);
  };
  const start = (state.get("p") || "1,0,0").split(",").map(Number);
  sliders.forEach((s, k) => {
    s.value = String(start[k] ?? 0);
    s.addEventListener("input", () => { state.set("p", sliders.map((x) => x.value).join(",")); update(); });
  });
  cups.value = state.get("cups") ?? "2";
  cups.addEventListener("change", () => { state.set("cups", cups.value); update(); });
  update();
}

// Step through networks of growing width: each answer's line and its kinks, where units switch.
function setupUnits(figure, plot, controls) {
  const state = urlState(figure.dataset.figure);
  const slider = figure.querySelector("[data-units]");
  const update = () => {
    const i = Number(slider.value);
    slider.nextElementSibling.textContent = String(controls.units[i]);
    controls.curves[i].forEach((y, k) => Plotly.restyle(plot, { y: [y] }, [controls.first + k]));
    Plotly.restyle(plot, { x: [controls.kinks[i].x], y: [controls.kinks[i].y] }, [controls.first + controls.curves[i].length]);
    figure.dataset.units = String(controls.units[i]);
  };
  const start = controls.units.indexOf(Number(state.get("units")));
  slider.value = String(start >= 0 ? start : controls.units.length - 1);
  slider.addEventListener("input", () => { state.set("units", controls.units[Number(slider.value)]); update(); });
  update();
}

// A network diagram: the sliders pick a grid point, and every unit and wire takes that point's
// values from the trained model. A wire's width grows with the size of its signal; blue carries a
// positive signal, red a negative one (inhibition), and a dotted gate wire scales its neighbour.
const WIRE = { up: "#2563eb", down: "#dc2626", gate: "#f59e0b" };

function setupNetwork(figure, plot, controls) {
  const state = urlState(figure.dataset.figure);
  const cups = figure.querySelector("[data-net=cups]");
  const dark = figure.querySelector("[data-net=darkness]");
  const says = figure.querySelector("[data-says]");
  const names = [...plot.data[controls.wires].text];
  const wires = [...Array(controls.wires).keys()];
  const update = () => {
    const i = Number(cups.value) * controls.darkness.length + Number(dark.value);
    cups.nextElementSibling.textContent = controls.cups[Number(cups.value)].toFixed(1);
    dark.nextElementSibling.textContent = controls.darkness[Number(dark.value)].toFixed(2);
    const signal = controls.signals[i];
    Plotly.restyle(plot, {
      // A gate lies between 0 and 1 and is drawn on that scale; a signal against the largest one.
      "line.width": signal.map((s, w) => (controls.gates[w] ? 1 + 6 * s : 0.5 + 9 * Math.sqrt(Math.abs(s) / controls.widest))),
      "line.color": signal.map((s, w) => (controls.gates[w] ? WIRE.gate : s < 0 ? WIRE.down : WIRE.up)),
    }, wires);
    const narrow = plot.clientWidth < 560;  // a phone: each value under its name, in smaller type
    Plotly.restyle(plot, {
      "marker.opacity": [controls.on[i].map((v) => 0.15 + 0.85 * v)],
      text: [names.map((n, u) => `${n}${narrow ? "<br>" : ": "}${controls.labels[i][u]}`)],
      "textfont.size": narrow ? 10 : 12,
    }, [controls.wires]);
    says.textContent = controls.says[i];
    figure.dataset.point = String(i);
  };
  const nearest = (values, wanted, fallback) => {
    if (wanted === null || Number.isNaN(Number(wanted))) return fallback;
    let best = 0;
    values.forEach((v, k) => { if (Math.abs(v - wanted) < Math.abs(values[best] - wanted)) best = k; });
    return best;
  };
  cups.value = String(nearest(controls.cups, state.get("x"), 3));
  dark.value = String(nearest(controls.darkness, state.get("d"), 0));
  cups.addEventListener("input", () => { state.set("x", controls.cups[Number(cups.value)]); update(); });
  dark.addEventListener("input", () => { state.set("d", controls.darkness[Number(dark.value)]); update(); });
  update();
}

export function mountFigure(figure) {
  const spec = JSON.parse(figure.querySelector("script.fig-data").textContent);
  const plot = figure.querySelector(".plot");
  const height = parseFloat(getComputedStyle(plot).minHeight) || 360;  // style.css: less on a phone
  let room = 0;  // how far the legend at the figure's foot pushed the plot up, once drawn
  const layout = () => {
    const width = plot.clientWidth;
    return legendAtFoot(fitScenes(roomForModebar(themeLayout(stackPanels(spec.plot.layout, width)), width), width),
                        height, room);
  };
  const first = layout();
  let colours = legible(spec.plot.data);
  const drawn = Plotly.newPlot(plot, colours, first, {
    responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud"],
    edits: { shapePosition: spec.controls?.kind === "card" },  // a recipe card's points can be dragged
  });
  setupReplay(figure, plot, spec.frames);
  if (spec.controls?.kind === "refresher") setupRefresher(figure, plot, spec.controls);
  if (spec.controls?.kind === "switch") setupSwitch(figure, plot, spec.controls);
  if (spec.controls?.kind === "units") setupUnits(figure, plot, spec.controls);
  if (spec.controls?.kind === "network") setupNetwork(figure, plot, spec.controls);
  if (spec.controls?.kind === "card") setupCard(figure, plot, spec.controls);
  if (spec.controls?.kind === "lookup") setupLookup(figure, plot, spec.controls);
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    Plotly.relayout(plot, layout());
    const fresh = legible(spec.plot.data);  // the colours that stand out from the new page
    fresh.forEach((trace, i) => {
      if (trace === colours[i]) return;
      const update = { opacity: trace.opacity ?? 1 };
      if (trace.line?.color) update["line.color"] = trace.line.color;
      if (trace.marker?.color) update["marker.color"] = trace.marker.color;
      Plotly.restyle(plot, update, [i]);
    });
    colours = fresh;
    figure.dispatchEvent(new CustomEvent("gt-theme"));  // for figures that draw their own marks
  });
  // Ready once the legend has its room: the first drawing tells how much it takes.
  Promise.resolve(drawn).then(() => {
    room = Math.max(0, (plot._fullLayout?._size?.b ?? 0) - (first.margin?.b ?? 80));
    if (room > 0 && first.legend?.yref === "container") return Plotly.relayout(plot, { height: first.height + room });
  }).then(() => { figure.dataset.ready = "true"; });
}
