// The lab's plots: the data, the fitted function (2D or 3D), the attention weights or class
// probabilities, and the loss curve with the recipe's stages marked. Each takes the run it draws.

import { classColour, legible, palette, roomForModebar, themeLayout } from "./common.js";

export const plots = Object.fromEntries([...document.querySelectorAll("[data-plot]")].map((el) => [el.dataset.plot, el]));
export const threeD = document.querySelector("input[name=three_d]");

export function layout(extra = {}) {
  const themed = themeLayout(Object.assign({
    // The legend at the foot of the whole figure, below the x axis's title rather than over it.
    margin: { l: 50, r: 15, t: 30, b: 95 }, legend: { orientation: "h", x: 0, y: 0, yref: "container", yanchor: "bottom" },
    uirevision: "keep",
  }, extra));
  // Plotly widens the margin for such a legend by its height alone; an axis that asks for room
  // for its ticks and title too keeps them clear of a legend that wraps to many rows on a phone.
  for (const key of Object.keys(themed)) {
    if (/^[xy]axis\d*$/.test(key)) themed[key] = Object.assign({ automargin: true }, themed[key]);
  }
  return roomForModebar(themed, window.innerWidth);  // the loss chart's stage names sit at its top
}

export function drawPoints(data, classes) {
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

// Recipe-card data: each held-out card's examples (those of another grain faded), the water its
// grain truly needs (dashed) and, once a model has trained, the model's answer to the card.
function cardTraces(cards, grid, answers) {
  return cards.flatMap((card, k) => {
    const colour = palette.experts[k % palette.experts.length];
    const name = `card ${k + 1}`;
    const traces = [{ type: "scatter", mode: "markers", name, legendgroup: name, x: card.x, y: card.y,
      marker: { size: 7, color: colour, opacity: card.asked.map((own) => (own ? 0.9 : 0.2)) } }];
    if (grid) {
      const ends = [grid.x[0], grid.x[grid.x.length - 1]];
      traces.push({ type: "scatter", mode: "lines", name: `${name}: true water`, legendgroup: name, showlegend: false,
        x: ends, y: ends.map((x) => card.ratio * x), line: { color: colour, dash: "dash", width: 1.5 } });
    }
    if (answers) traces.push({ type: "scatter", mode: "lines", name: `${name}: model`, legendgroup: name, showlegend: false,
      x: grid.x, y: answers[k], line: { color: colour, width: 3 } });
    return traces;
  });
}

const CARD_AXES = { xaxis: { title: { text: "x (cups), held-out cards" } }, yaxis: { title: { text: "y (water)" } } };

export function drawFit(job, event) {
  if (!job || !event.grid) return;
  const { grid } = event;
  if (event.cards) {
    Plotly.react(plots.fit, cardTraces(job.data.cards, grid, event.cards), layout(CARD_AXES));
    plots.weights.hidden = true;
    return;
  }
  const colourOf = (k) => classColour(job.classes[k], k);  // a grain's own colour, else the k-th expert's
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
    Plotly.react(plots.fit, legible([...points, ...model]), layout({ scene: { xaxis: { title: { text: "x (cups)" } }, yaxis: { title: { text: "z (selector)" } }, zaxis: { title: { text: "y" } } } }));
  } else {
    const at = (c, k) => (job.data.photos ? `model, a ${job.classes[k]} photo` : `model at z = ${c.z}`);
    model = event.curves.map((c, k) => ({ type: "scatter", mode: "lines", name: at(c, k),
      x: grid.x, y: c.y, line: { color: colourOf(k), width: 3 } }));
    Plotly.react(plots.fit, legible([...points, ...model]), layout({ xaxis: { title: { text: "x (cups)" } }, yaxis: { title: { text: "y (water)" } } }));
  }
  plots.weights.hidden = !event.weights && !event.gates;
  const expert = expertLooks(job, event);
  document.querySelector("[data-strip=held_out]").hidden = !event.gates;
  if (event.gates) {  // a photo model: its gates on the row of held-out photos drawn above the chart
    const row = job.data.photos.held_out.label;
    Plotly.react(plots.weights, event.gates.map((g, k) => ({ type: "bar", name: expert[k].name, x: row.map((_, i) => i), y: g,
      marker: { color: expert[k].colour } })), layout({ barmode: "stack", title: { text: "gates on held-out photos", font: { size: 13 } },
      xaxis: { tickvals: row.map((_, i) => i), ticktext: row.map((l) => job.classes[l]), tickangle: -45 }, yaxis: { range: [0, 1] } }));
  }
  if (event.weights) {
    Plotly.react(plots.weights, legible(event.weights.map((w, k) => ({ type: "scatter", mode: "lines", name: expert[k].name,
      x: grid.z, y: w, line: { color: expert[k].colour, width: 2.5 } }))), layout({ title: { text: "attention weights", font: { size: 13 } }, xaxis: { title: { text: "selector z" } }, yaxis: { range: [-0.05, 1.05] } }));
  }
}

// Each expert drawn in the colour of the grain it answers for, as the article draws it: the class
// whose points (at its typical z, or its held-out photos) weigh that expert most. An expert that no
// grain calls on keeps a colour of its own.
function expertLooks(job, event) {
  const weights = event.weights ?? event.gates ?? [];
  const share = job.classes.map((_, c) => weights.map((w) => {
    if (event.gates) {
      const mine = job.data.photos.held_out.label.map((l, i) => (l === c ? w[i] : null)).filter((v) => v !== null);
      return mine.reduce((a, b) => a + b, 0) / Math.max(mine.length, 1);
    }
    const level = event.curves?.[c]?.z ?? 0;
    const at = event.grid.z.reduce((best, z, i) => (Math.abs(z - level) < Math.abs(event.grid.z[best] - level) ? i : best), 0);
    return w[at];
  }));
  const owner = weights.map(() => null);
  share.forEach((row, c) => {
    const k = row.indexOf(Math.max(...row));
    if (k >= 0 && owner[k] === null) owner[k] = c;
  });
  return weights.map((_, k) => (owner[k] === null
    ? { name: `expert ${k + 1}`, colour: palette.experts[k % palette.experts.length] }
    : { name: `expert ${k + 1}: ${job.classes[owner[k]]}`, colour: classColour(job.classes[owner[k]], owner[k]) }));
}

const MAX_LOSS_POINTS = 4000;

export function addLosses(job, event) {
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

// Each stage named in words a learner reads: how it steps, what it moves, what it lowers.
const STEPPERS = { adam: "Adam", sgd: "gradient descent", lbfgs: "L-BFGS" };
const PARTS = { key: "the gate's keys only", value: "the experts' lines only" };
const LOSS_NAMES = { mse: "squared error", mixture: "mixture likelihood", "cross-entropy": "cross-entropy", labelled: "labelled loss" };

// Each stage of the recipe marked where it starts, named by what it minimises and how: the curve
// jumps there because the loss itself changes (the mixture likelihood is not the squared error).
function stageMarks(job) {
  const shapes = [];
  const annotations = [];
  let at = 0;
  for (let start = 0; start < (job.starts || 1); start += 1) {
    for (const stage of job.stages || []) {
      if (at > 0) shapes.push({ type: "line", xref: "x", yref: "paper", x0: at, x1: at, y0: 0, y1: 1, line: { dash: "dot", width: 1, color: "#888" } });
      if (start === 0 && job.stages.length > 1) {
        // Every other name a line lower, so that the names of short stages do not run together.
        annotations.push({ xref: "x", yref: "paper", x: at, y: 1 - 0.1 * (annotations.length % 2), xanchor: "left", yanchor: "top", showarrow: false, font: { size: 10 },
          text: `${STEPPERS[stage.optimizer] ?? stage.optimizer}${stage.only ? `, ${PARTS[stage.only] ?? `${stage.only} only`}` : ""}: ${LOSS_NAMES[stage.objective] ?? stage.objective}` });
      }
      at += stage.steps;
    }
  }
  return { shapes, annotations };
}

export function drawLoss(job) {
  // Fresh arrays each time: Plotly.react redraws only data it sees change.
  const names = [...new Set((job.stages || []).map((s) => LOSS_NAMES[s.objective] ?? s.objective))];
  // The run before this one stays behind it, dotted, so a reader who changed one setting sees what it did.
  const before = job.previous;
  const traces = [{ type: "scatter", mode: "lines", x: [...job.losses.x], y: [...job.losses.y], name: "this run" }];
  if (before) traces.push({ type: "scatter", mode: "lines", x: before.x, y: before.y, name: `previous run: ${before.label}`, line: { dash: "dot", color: palette.grains.white, width: 1.5 } });
  const log = job.logLoss && (!before || before.y.every((v) => v > 0));
  Plotly.react(plots.loss, legible(traces),
    layout({ xaxis: { title: { text: "step" } }, yaxis: { title: { text: `training loss (${names.join(", then ") || "objective"})` }, type: log ? "log" : "linear",
      // A log axis labels its in-between ticks by their first digit ("5" at 0.5); a format makes each say its value.
      // Labels at 1, 2 and 5 of each decade only: over four decades, one at every digit crowds the axis.
      ...(log ? { tickformat: "~g", dtick: "D2" } : {}) },
      showlegend: Boolean(before), ...stageMarks(job) }));
}

// Photo data: a strip of training photos in place of the 3D view, and the held-out row whose gates
// a photo model reports, each photo drawn pixel for pixel on a canvas with its grain's name.
export function showPhotos(data, classes) {
  const photos = data.photos;
  threeD.closest("label").hidden = Boolean(photos || data.cards);  // a photo or a card is no point in 3D
  if (photos || data.cards) threeD.checked = false;
  for (const strip of document.querySelectorAll("[data-strip]")) {
    const set = photos?.[strip.dataset.strip];
    strip.hidden = !set || strip.dataset.strip === "held_out";  // shown with the gates, once there are some
    strip.replaceChildren();
    if (!set) continue;
    set.pixels.forEach((pixels, i) => {
      const canvas = document.createElement("canvas");
      canvas.width = pixels[0].length;
      canvas.height = pixels.length;
      const image = canvas.getContext("2d").createImageData(canvas.width, canvas.height);
      pixels.flat().forEach(([r, g, b], p) => image.data.set([r, g, b, 255], 4 * p));
      canvas.getContext("2d").putImageData(image, 0, 0);
      canvas.title = classes[set.label[i]];
      const figure = document.createElement("figure");
      figure.append(canvas, Object.assign(document.createElement("figcaption"), { textContent: classes[set.label[i]] }));
      strip.append(figure);
    });
  }
}

// The data alone, before any training.
export function showData(data, classes) {
  showPhotos(data, classes);
  if (data.cards) {
    Plotly.react(plots.fit, cardTraces(data.cards), layout(CARD_AXES));
    return;
  }
  Plotly.react(plots.fit, legible(drawPoints(data, classes)), layout(threeD.checked
    ? { scene: { xaxis: { title: { text: "x (cups)" } }, yaxis: { title: { text: "z (selector)" } }, zaxis: { title: { text: "y" } } } }
    : { xaxis: { title: { text: "x (cups)" } }, yaxis: { title: { text: "y (water)" } } }));
}
