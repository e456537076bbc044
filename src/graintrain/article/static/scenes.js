// A 3D scene's camera is chosen for a box of one shape (layout.meta.sceneRatio, width over height).
// Plotly fits a scene to its box's height, so in a narrower box, a phone's, the scene would run off
// both sides and leave the box's top and bottom empty. There the figure grows shorter, until its
// narrowest scene's box is square or of the chosen shape, and the eye steps back from the centre by
// as much as the box is still narrower than that shape.
export function fitScenes(layout, width) {
  const ratio = layout.meta?.sceneRatio;
  if (!ratio) return layout;
  const fitted = structuredClone(layout);
  const m = fitted.margin || {};
  const across = width - (m.l ?? 80) - (m.r ?? 80);
  const spare = (m.t ?? 100) + (m.b ?? 80);
  let height = (fitted.height || 450) - spare;
  const scenes = Object.keys(fitted).filter((key) => /^scene\d*$/.test(key) && fitted[key]?.camera?.eye);
  const box = (scene) => {
    const [x0, x1] = scene.domain?.x || [0, 1];
    const [y0, y1] = scene.domain?.y || [0, 1];
    return (across * (x1 - x0)) / (height * (y1 - y0));
  };
  const goal = Math.min(ratio, 1);
  const narrowest = Math.min(...scenes.map((key) => box(fitted[key])));
  if (narrowest < goal) {
    height *= narrowest / goal;
    fitted.height = Math.round(height + spare);
  }
  for (const key of scenes) {
    const back = Math.max(1, ratio / box(fitted[key]));
    const { eye, center = {} } = fitted[key].camera;
    for (const k of ["x", "y", "z"]) eye[k] = (center[k] ?? 0) + back * (eye[k] - (center[k] ?? 0));
  }
  return fitted;
}
