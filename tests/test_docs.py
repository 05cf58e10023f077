"""The documentation's links lead somewhere: every relative link and image of README.md, BENCHMARKS.md and docs/*.md
names a file of the repository and, after '#', a heading of that page (GitHub's anchors)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]
FRONT_PAGE_LINES = 150


def parse(page: Path) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(page.read_text())


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: the text in lower case, punctuation dropped, spaces made hyphens; a
    repeated heading gets -1, -2..."""
    found: set[str] = set()
    repeats: Counter[str] = Counter()
    stream = parse(page)
    for opening, inline in zip(stream, stream[1:]):
        if opening.type == "heading_open":
            text = "".join(c.content for c in inline.children or [] if c.type in ("text", "code_inline"))
            slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
            found.add(f"{slug}-{repeats[slug]}" if repeats[slug] else slug)
            repeats[slug] += 1
    return found


def links(page: Path) -> list[str]:
    """Every link target and image source of a page, outside code."""
    inline = [c for token in parse(page) for c in token.children or []]
    return [c.attrs["href" if c.type == "link_open" else "src"] for c in inline if c.type in ("link_open", "image")]


def broken(page: Path, root: Path = ROOT) -> list[str]:
    """The page's relative links that name no file under ``root`` or no heading of the page they name."""
    found = []
    for link in links(page):
        parts = urlsplit(str(link))
        if parts.scheme or parts.netloc:
            continue  # web addresses: not checked offline
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if not target.is_relative_to(root) or not target.exists():
            found.append(f"{link}: no such file in the repository")
        elif parts.fragment and (target.suffix != ".md" or parts.fragment not in anchors(target)):
            found.append(f"{link}: no such heading in {target.name}")
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_resolve_to_files_and_headings(page: Path) -> None:
    assert broken(page) == []


def test_the_checker_knows_githubs_anchors_and_finds_broken_links(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Memory (12.8 MP × 49 lights)\n## Synthetic MLICs: `python -m synth`\n## Notes\n## Notes\n\n"
                    "[a](#notes-1) [b](#notes-2) [c](missing.md) `[d](#in-code)`\n\n```\n[e](#in-a-block)\n```\n"
                    "![f](page.md#memory-128-mp--49-lights) [g](https://example.org/x#y)\n")
    assert anchors(page) == {"memory-128-mp--49-lights", "synthetic-mlics-python--m-synth", "notes", "notes-1"}
    assert links(page) == ["#notes-1", "#notes-2", "missing.md", "page.md#memory-128-mp--49-lights",
                           "https://example.org/x#y"]
    assert broken(page, tmp_path) == ["#notes-2: no such heading in page.md", "missing.md: no such file in the repository"]


def test_the_readme_is_a_front_page() -> None:
    """What the tool is, the two commands, a tour and links into docs/: reference text lives in docs/."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= FRONT_PAGE_LINES
    assert "python3 build.py demo" in readme and "python3 build.py test" in readme
    assert {page.name for page in (ROOT / "docs").glob("*.md")} <= {Path(link).name.split("#")[0]
                                                                     for link in links(ROOT / "README.md")}
