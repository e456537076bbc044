// Mounts every figure on a chapter page. Plotly is loaded before this module as a classic script.
import { mountFigure } from "./figure.js";

for (const element of document.querySelectorAll("figure.gt-figure")) {
  try {
    mountFigure(element);
  } catch (error) {
    element.querySelector(".plot").textContent = `This figure could not be drawn: ${error.message}`;
    throw error;
  }
}
