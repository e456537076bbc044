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

const figures = [...document.querySelectorAll("figure.gt-figure")];
if ("IntersectionObserver" in window) {
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      mount(entry.target);
    }
  }, { rootMargin: "600px 0px" });  // start a little before the figure scrolls in
  for (const element of figures) observer.observe(element);
} else {
  for (const element of figures) mount(element);
}
