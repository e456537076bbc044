// The static export's lab: with no server to train on, it replays the runs behind the article's
// figures, which `graintrain build` wrote as the very events a live job streams.

async function json(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

// Two queries with the same settings, whatever their order.
export function sameQuery(a, b) {
  const sorted = (query) => { const params = new URLSearchParams(query); params.sort(); return params.toString(); };
  return sorted(a) === sorted(b);
}

// Hand the run's events to handle() one by one, spread over as many seconds as a run at the
// "watch" pace lasts (the registry's events.watch_seconds); a newer replay stops it.
export async function play(entry, handle, job, seconds) {
  const events = await json(`lab/${entry.file}`);
  const gap = (1000 * seconds) / events.length;
  let i = 0;
  const next = () => {
    if (job.stopped) return;
    handle(events[i]);
    i += 1;
    if (i < events.length) job.timer = setTimeout(next, gap);
  };
  next();
}
