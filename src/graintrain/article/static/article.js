// Mounts the figures of a chapter page as they come near the screen, so a long chapter draws its
// first figure at once instead of building every plot before any appears. Plotly is loaded
// before this module as a classic script.
import { mountFigure } from "./figure.js";

function mount(element) {
  element.dataset.seenMs = String(performance.now());
  try {
    mountFigure(element);
  } catch (error) {
    element.querySelector(".plot").textContent = `This figure could not be drawn: ${error.message}`;
    throw error;
  } finally {
    element.dataset.drawnMs = String(performance.now());
  }
}

const observer = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    observer.unobserve(entry.target);
    mount(entry.target);
  }
}, { rootMargin: "600px 0px" }) : null;  // start a little before the figure scrolls in
const watch = (element) => (observer ? observer.observe(element) : mount(element));

// A figure whose models are still training on the server (graintrain serve on a fresh cache):
// ask how far it is every second, and put the figure in its place once it is ready.
const POLL_MS = 1000;
async function await_(element) {
  const name = element.dataset.figure;
  for (;;) {
    await new Promise((done) => setTimeout(done, POLL_MS));
    let state;
    try {
      const response = await fetch(`api/figures/${encodeURIComponent(name)}`);
      if (!response.ok) continue;
      state = await response.json();
    } catch { continue; }  // the server restarting: keep asking
    if (state.ready) {
      const made = new DOMParser().parseFromString(state.html, "text/html").body.firstElementChild;
      element.replaceWith(made);
      watch(made);
      return;
    }
    if (state.failed) {
      element.querySelector(".training").textContent = `Training stopped: ${state.failed}`;
      return;
    }
    element.querySelector("[data-have]").textContent = String(state.have);
    element.querySelector("progress").value = state.have;
  }
}

for (const element of document.querySelectorAll("figure.gt-figure")) {
  if ("pending" in element.dataset) await_(element);
  else watch(element);
}
