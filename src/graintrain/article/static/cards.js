// Chapter 11's two live figures. Each runs its trained model's forward pass here in the browser,
// from the weights the page ships (and, during a replay, the weights of the step shown), on a card
// the reader edits. The formulas are the models' own: models/linear_self_attention.py and
// models/self_attention.py.

import { neutral, urlState } from "./common.js";

const matvec = (W, v) => W.map((row) => row[0] * v[0] + row[1] * v[1]);  // nn.Linear without bias
const dot = (a, b) => a[0] * b[0] + a[1] * b[1];

// ŷ = y slot of e_q + P·(1/m)Σ_i (V e_i)(K e_i)ᵀ(Q e_q), with e_i = (x_i, y_i) and e_q = (x_q, 0).
export function linearLayer(w, xs, ys, xq) {
  const ask = matvec(w.query, [xq, 0]);
  const update = [0, 0];
  xs.forEach((x, i) => {
    const e = [x, ys[i]];
    const score = dot(matvec(w.key, e), ask);
    const v = matvec(w.value, e);
    update[0] += (v[0] * score) / xs.length;
    update[1] += (v[1] * score) / xs.length;
  });
  return matvec(w.project, update)[1];
}

// weights_i = softmax(c·log x_i − ‖W(x_i, d_i) − W(x_q, d_q)‖²); ŷ = x_q·Σ_i weights_i·y_i / x_i.
export function lookup(p, xs, ys, ds, xq, dq) {
  const ask = matvec(p.embed, [xq, dq]);
  const scores = xs.map((x, i) => {
    const key = matvec(p.embed, [x, ds[i]]);
    return p.size * Math.log(x) - ((key[0] - ask[0]) ** 2 + (key[1] - ask[1]) ** 2);
  });
  const top = Math.max(...scores);
  const raw = scores.map((s) => Math.exp(s - top));
  const total = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((r) => r / total);
  return { weights, answer: xq * weights.reduce((a, w, i) => a + (w * ys[i]) / xs[i], 0) };
}

function sliders(figure, attr, state, values, onChange) {
  const inputs = Object.fromEntries([...figure.querySelectorAll(`[${attr}]`)].filter((el) => el.type === "range")
    .map((el) => [el.getAttribute(attr), el]));
  for (const [key, el] of Object.entries(inputs)) {
    el.value = state.get(key) ?? values[key];
    el.addEventListener("input", () => { state.set(key, el.value); onChange(); });
  }
  return inputs;
}

// A recipe card: drag its points (Plotly's movable shapes), change its ratio, how many of its
// examples are read, or the amount asked about; three answers follow, with the true water.
export function setupCard(figure, plot, c) {
  const state = urlState(figure.dataset.figure);
  const says = figure.querySelector("[data-says]");
  const xs = [...c.x];
  const noise = [...c.noise];
  let weights = c.weights;
  const moved = state.get("pts");  // "x~e,x~e,…": each point's cups and its offset from the ratio's line
  if (moved) moved.split(",").forEach((pair, i) => { [xs[i], noise[i]] = pair.split("~").map(Number); });
  const inputs = sliders(figure, "data-card", state, { r: c.r, k: c.x.length, xq: c.xq }, () => update());
  const top = plot.layout.xaxis.range[1];
  const update = () => {
    const r = Number(inputs.r.value);
    const k = Number(inputs.k.value);
    const xq = Number(inputs.xq.value);
    for (const el of Object.values(inputs)) el.nextElementSibling.textContent = Number(el.value).toFixed(el === inputs.k ? 0 : 2);
    const ys = xs.map((x, i) => r * x + noise[i]);
    const rx = xs.slice(0, k);
    const ry = ys.slice(0, k);
    const sxy = rx.reduce((a, x, i) => a + x * ry[i], 0);
    const answers = [r * xq, linearLayer(weights, rx, ry, xq), (c.eta * sxy * xq) / k,
                     (sxy / rx.reduce((a, x) => a + x * x, 0)) * xq];
    Plotly.restyle(plot, { x: answers.map(() => [0, top]), y: answers.map((a) => [0, (a / xq) * top]) }, [0, 1, 2, 3]);
    Plotly.restyle(plot, { x: [answers.map(() => xq)], y: [answers] }, [4]);
    const ink = neutral();  // the page's own, so the points stand out in either theme
    Plotly.relayout(plot, { shapes: xs.map((x, i) => ({
      type: "circle", xref: "x", yref: "y", xsizemode: "pixel", ysizemode: "pixel", xanchor: x, yanchor: ys[i],
      x0: -7, x1: 7, y0: -7, y1: 7, fillcolor: i < k ? ink.mark : ink.faded,
      line: { color: ink.edge, width: 1 },
    })) });
    says.textContent = `For ${xq.toFixed(2)} cups the water is ${answers[0].toFixed(2)}. Reading ${k} example${k > 1 ? "s" : ""}, ` +
      `the layer says ${answers[1].toFixed(2)}, one GD step ${answers[2].toFixed(2)}, least squares ${answers[3].toFixed(2)}.`;
    figure.dataset.answers = JSON.stringify(answers);
  };
  plot.on("plotly_relayout", (event) => {  // a dragged point reports its new anchor
    let changed = false;
    for (const [key, value] of Object.entries(event)) {
      const m = key.match(/^shapes\[(\d+)\]\.([xy])anchor$/);
      if (!m) continue;
      const i = Number(m[1]);
      const y = m[2] === "y" ? value : Number(inputs.r.value) * xs[i] + noise[i];
      if (m[2] === "x") xs[i] = Math.min(Math.max(value, 0.05), top);
      noise[i] = y - Number(inputs.r.value) * xs[i];
      changed = true;
    }
    if (!changed) return;
    state.set("pts", xs.map((x, i) => `${x.toFixed(3)}~${noise[i].toFixed(3)}`).join(","));
    update();
  });
  figure.querySelector("[data-card=reset]").addEventListener("click", () => {
    xs.splice(0, xs.length, ...c.x);
    noise.splice(0, noise.length, ...c.noise);
    for (const [key, value] of Object.entries({ r: c.r, k: c.x.length, xq: c.xq })) { inputs[key].value = value; state.set(key, null); }
    state.set("pts", null);
    update();
  });
  figure.addEventListener("gt-frame", (event) => { weights = event.detail.weights; update(); });
  figure.addEventListener("gt-theme", update);  // the page changed theme: its points take the new ink
  update();
}

// A mixed card: move the query's darkness and amount, and see which examples it reads.
export function setupLookup(figure, plot, c) {
  const state = urlState(figure.dataset.figure);
  const says = figure.querySelector("[data-says]");
  let params = c.weights;
  const inputs = sliders(figure, "data-lookup", state, { d: c.dq, x: c.xq }, () => update());
  const top = plot.layout.xaxis.range[1];
  const grains = c.colours.length;
  const update = () => {
    const dq = Number(inputs.d.value);
    const xq = Number(inputs.x.value);
    for (const el of Object.values(inputs)) el.nextElementSibling.textContent = Number(el.value).toFixed(2);
    const { weights, answer } = lookup(params, c.x, c.y, c.d, xq, dq);
    Plotly.restyle(plot, { "marker.size": [weights.map((w) => 6 + 30 * Math.sqrt(w))] }, [0]);
    Plotly.restyle(plot, { y: [[0, (answer / xq) * top]] }, [1]);
    Plotly.restyle(plot, { x: [[xq]], y: [[answer]] }, [2]);
    Plotly.restyle(plot, { y: [c.order.map((i) => weights[i])] }, [3]);
    const per = Array(grains).fill(0);
    weights.forEach((w, i) => { per[c.group[i]] += w; });
    says.textContent = `Weight on each grain, palest first: ${per.map((p) => p.toFixed(2)).join(" · ")}. ` +
      `Answer: ${answer.toFixed(2)} cups of water for ${xq.toFixed(2)} cups.`;
    figure.dataset.grains = JSON.stringify(per);
    figure.dataset.answer = String(answer);
  };
  figure.addEventListener("gt-frame", (event) => { params = event.detail.weights; update(); });
  update();
}
