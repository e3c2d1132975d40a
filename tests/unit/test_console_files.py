"""The web console's files (docs/console.md): at most 100 KB of JavaScript gzipped, the chart
library vendored with its licence (no CDN), and every page module registered in the shell."""

from __future__ import annotations

import gzip
import re

from chalicelib.handlers.console_api import CONSOLE

BUDGET = 100 * 1024
UPLOT = "1.6.32"


def test_the_consoles_javascript_is_at_most_100_kb_gzipped():
    # Given every script the page loads (the shell, its helpers, the pages, uPlot)
    scripts = sorted(CONSOLE.rglob("*.js"))
    assert len(scripts) >= 8
    # When each is gzipped as a server or a CDN would
    total = sum(len(gzip.compress(path.read_bytes(), compresslevel=9)) for path in scripts)
    # Then together they stay within the budget
    assert total <= BUDGET, f"{total} bytes gzipped"


def test_the_chart_library_is_vendored_with_its_licence_and_loaded_from_the_app():
    # Given the page and the vendored uPlot
    page = (CONSOLE / "index.html").read_text()
    # Then the page loads uPlot's pinned build from its own path, never from another host
    assert f'src="console/uplot-{UPLOT}.iife.min.js"' in page
    assert f'href="console/uplot-{UPLOT}.min.css"' in page
    assert (CONSOLE / f"uplot-{UPLOT}.iife.min.js").stat().st_size > 40_000
    assert "MIT License" in (CONSOLE / "uplot-LICENSE.txt").read_text()
    for path in CONSOLE.rglob("*"):
        if path.suffix in (".js", ".html", ".css") and not path.name.startswith("uplot-"):
            assert not re.search(r"https?://", path.read_text()), path.name


def test_every_page_module_is_registered_in_the_shell_with_the_page_interface():
    # Given the shell and the page modules
    shell = (CONSOLE / "app.js").read_text()
    imported = dict(re.findall(r'import (\w+) from "\./pages/(\w+)\.js";', shell))
    registered = re.search(r"export const PAGES = \[([^\]]*)\];", shell)
    assert registered is not None
    names = [name.strip() for name in registered[1].split(",")]
    # Then each file in pages/ is imported and listed once, and exports { title, path, render }
    assert sorted(imported.values()) == sorted(p.stem for p in (CONSOLE / "pages").glob("*.js"))
    assert sorted(names) == sorted(imported)
    paths = []
    for module in (CONSOLE / "pages").glob("*.js"):
        text = module.read_text()
        default = text.split("export default {", 1)
        assert len(default) == 2, module.name
        assert re.search(r'^  title: "[^"]+",$', default[1], re.M), module.name
        path = re.search(r'^  path: "(/[a-z0-9-]+)",$', default[1], re.M)
        assert path is not None, module.name
        paths.append(path[1])
        assert re.search(r"^  async render\(root, ctx\) \{$", default[1], re.M), module.name
    assert len(paths) == len(set(paths))
