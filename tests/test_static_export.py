"""The static export: every file with a gzip copy a host can send as it is, and the lab's registry
at the address the page asks a server for."""

import gzip
import json


def test_every_file_has_a_gzip_twin_and_a_chapter_travels_at_a_third(site, tmp_path):
    written = site.write(tmp_path)
    plain = [f for f in written if f.suffix != ".gz"]
    assert plain and all(f.with_name(f.name + ".gz") in written for f in plain)
    for file in plain:
        assert gzip.decompress(file.with_name(file.name + ".gz").read_bytes()) == file.read_bytes()
    chapter = [tmp_path / "09-attention.html", tmp_path / "static" / "plotly.min.js"]
    raw = sum(f.stat().st_size for f in chapter)
    sent = sum(f.with_name(f.name + ".gz").stat().st_size for f in chapter)
    assert sent < raw / 3, f"{raw:,} bytes gzip to {sent:,}"
    again = tmp_path / "again"  # no time stamp inside: two builds are the same bytes
    site.write(again)
    assert (again / "index.html.gz").read_bytes() == (tmp_path / "index.html.gz").read_bytes()


def test_the_static_registry_stands_where_the_page_asks_and_lists_the_replays(site, tmp_path):
    site.write(tmp_path)
    answer = json.loads((tmp_path / "api" / "registry").read_text())
    assert answer["defaults"]["model"] in answer["models"]
    assert answer["replays"] and all((tmp_path / "lab" / r["file"]).is_file() for r in answer["replays"])
