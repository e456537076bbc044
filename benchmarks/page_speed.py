"""How soon the article's figures appear in a real browser (Chromium), on a warm `graintrain serve`.

In a reader's browser that has opened the article before (plotly.js cached and compiled), for each
chapter: the time from navigation to its first figure drawn (goal ≤ 1.5 s), then, scrolling
down as a reader would, the time from each scroll to its figure drawn (goal ≤ 1 s; 0 when it was
drawn before it came into view). Also the bytes sent for the page and plotly.js, compressed.

Run: .venv/bin/python benchmarks/page_speed.py   (the server's cache should already hold the runs)
"""

import statistics
import tempfile

import httpx
from _server import running_server
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


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
        firsts, scrolls = [], []
        print(f"{'chapter':34} first figure   slowest after a scroll")
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
            firsts.append(first)
            scrolls += after
            print(f"{path:34} {first / 1000:10.2f} s   {max(after) / 1000:8.2f} s")
            page.close()
        reader.close()
        print(f"first figure: median {statistics.median(firsts) / 1000:.2f} s, slowest "
              f"{max(firsts) / 1000:.2f} s (goal ≤ 1.5 s); after a scroll: slowest "
              f"{max(scrolls) / 1000:.2f} s (goal ≤ 1 s)")


if __name__ == "__main__":
    main()
