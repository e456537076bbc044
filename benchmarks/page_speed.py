"""How soon the article's figures appear in a real browser (Chromium), on a warm `graintrain serve`.

In a reader's browser that has opened the article before (plotly.js cached and compiled), for each
chapter: the time from navigation to its first figure drawn (goal ≤ 1.5 s), then, scrolling
down as a reader would, the time from each scroll to its figure drawn (goal ≤ 1 s; 0 when it was
drawn before it came into view); the time from navigation until every figure of the chapter is
drawn, scrolling straight through it (goal ≤ 2.5 s); and the longest any one figure held the page's
main thread while it was drawn (goal ≤ 200 ms), with the figure's name. Also the bytes sent for
the page and plotly.js, compressed.

Run: .venv/bin/python benchmarks/page_speed.py   (the server's cache should already hold the runs)
"""

import statistics
import tempfile

import httpx
from _server import running_server
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


def bare_scene(reader, page_url: str) -> float:
    """How long Plotly holds the page to draw a 3D scene of three points: the floor for any 3D
    figure in this browser (median of three, after a first that compiles the shaders)."""
    page = reader.new_page()
    page.goto(page_url)
    times = page.evaluate("""async () => {
      const out = [];
      for (let i = 0; i < 4; i++) {
        const box = Object.assign(document.createElement("div"), { style: "width:600px;height:400px" });
        document.body.prepend(box);
        const began = performance.now();
        Plotly.newPlot(box, [{ type: "scatter3d", mode: "markers", x: [1, 2, 3], y: [1, 2, 3], z: [1, 2, 3] }]);
        out.push(performance.now() - began);
      }
      return out; }""")
    page.close()
    return statistics.median(times[1:])


def main() -> None:
    with running_server() as url, sync_playwright() as p:
        # A reader's browser: a profile on disk, so compiled scripts are cached as Chrome caches them
        # (a fresh incognito context would compile plotly.js, about 1 s here, on every page).
        reader = p.chromium.launch_persistent_context(tempfile.mkdtemp(), executable_path=CHROMIUM,
                                                      args=["--no-sandbox"], viewport={"width": 1280, "height": 900})
        pages = [a.split('"')[0] for a in httpx.get(f"{url}/index.html").text.split('href="')[1:]
                 if a.split('"')[0].endswith(".html") and a[0].isdigit()]
        sizes = {path: httpx.get(f"{url}/{path}", headers={"accept-encoding": "gzip"}).num_bytes_downloaded
                 for path in (pages[-1], "static/plotly.min.js")}
        print("sent, gzip: " + ", ".join(f"{k} {v / 1000:.0f} kB" for k, v in sizes.items()))
        for _ in range(2):  # Chrome keeps a script's compiled code once it has run it twice
            warm = reader.new_page()
            warm.goto(f"{url}/index.html")
            warm.locator("body").wait_for()
            warm.goto(f"{url}/{pages[0]}")
            warm.locator("figure.gt-figure .plot.js-plotly-plot").first.wait_for(timeout=30000)
            warm.close()
        firsts, scrolls, wholes, holds = [], [], [], []
        print(f"{'chapter':34} first figure   slowest after a scroll   all drawn   longest hold")
        for path in dict.fromkeys(pages):
            page = reader.new_page()
            page.goto(f"{url}/{path}")
            figures = page.locator("figure.gt-figure")
            figures.first.locator(".plot.js-plotly-plot").wait_for(timeout=30000)
            first = float(page.evaluate("document.querySelector('figure.gt-figure').dataset.drawnMs"))
            after = []
            for i in range(figures.count()):
                began = float(page.evaluate("performance.now()"))
                figures.nth(i).scroll_into_view_if_needed()
                figures.nth(i).locator(".plot.js-plotly-plot").wait_for(timeout=30000)
                drawn = float(figures.nth(i).get_attribute("data-drawn-ms"))
                after.append(max(0.0, drawn - began))
            whole = float(page.evaluate("Math.max(...[...document.querySelectorAll('figure.gt-figure')]"
                                        ".map(f => Number(f.dataset.drawnMs)))"))
            hold, name = page.evaluate("[...document.querySelectorAll('figure.gt-figure')].map(f => "
                                       "[f.dataset.drawnMs - f.dataset.seenMs, f.dataset.figure])"
                                       ".sort((a, b) => b[0] - a[0])[0]")
            firsts.append(first)
            scrolls += after
            wholes.append(whole)
            holds.append((hold, name))
            print(f"{path:34} {first / 1000:10.2f} s   {max(after) / 1000:8.2f} s   {whole / 1000:16.2f} s"
                  f"   {hold:6.0f} ms {name}")
            page.close()
        floor = bare_scene(reader, f"{url}/{pages[0]}")
        reader.close()
        print(f"a bare 3D scene (three points) holds the page {floor:.0f} ms here: Chromium draws WebGL "
              "in software (SwiftShader) on this machine, which has no GPU")
        print(f"first figure: median {statistics.median(firsts) / 1000:.2f} s, slowest "
              f"{max(firsts) / 1000:.2f} s (goal ≤ 1.5 s); after a scroll: slowest "
              f"{max(scrolls) / 1000:.2f} s (goal ≤ 1 s); every figure of a chapter: slowest "
              f"{max(wholes) / 1000:.2f} s (goal ≤ 2.5 s); longest one figure held the page: "
              f"{max(holds)[0]:.0f} ms, {max(holds)[1]} (goal ≤ 200 ms)")


if __name__ == "__main__":
    main()
