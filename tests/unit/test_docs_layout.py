"""The docs speak of the product, and the README's layout lists every package."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def _layout() -> str:
    text = README.read_text()
    section = text[text.index("## Layout") :]
    return section[: section.index("```", section.index("```") + 3)]


def _packages() -> list[str]:
    """Every Python package of the project, as the layout names it (`chalicelib/adapters/`,
    `src/patron/bench/`, `tests/unit`)."""
    found = []
    for base, shown_as in ((ROOT / "functions", ""), (ROOT / "src", "src/"), (ROOT / "tests", "tests/")):
        for init in sorted(base.rglob("__init__.py")):
            package = init.parent.relative_to(base).as_posix()
            if package not in (".", "chalicelib"):  # chalicelib: the functions/ lines
                found.append(f"{shown_as}{package}")
    return found


def test_the_readme_layout_names_every_package_and_top_level_folder():
    # Given the README's layout section
    layout = _layout()

    # When every package of the project, and each folder beside the code, is looked for in it
    packages = [p for p in _packages() if not re.search(rf"^\s*{re.escape(p)}/?\s", layout, re.M)]
    beside = ("infra/", "events/", "tools/", "flows/", "layers/", "docs/")
    folders = [f for f in beside if f"\n{f}" not in layout]

    # Then each has its line
    assert packages == []
    assert folders == []


def test_no_heading_or_doc_line_names_an_issue_instead_of_the_product():
    # Given the README and the design docs
    docs = [README, *sorted((ROOT / "docs").glob("*.md"))]

    # When their lines are searched for references to the project's issue history
    found = [
        f"{doc.name}:{n}: {line}"
        for doc in docs
        for n, line in enumerate(doc.read_text().splitlines(), 1)
        if re.search(r"\bissue \d+|\(issue\b", line, re.I)
    ]

    # Then there are none: headings and notes name what the product does
    assert found == []
