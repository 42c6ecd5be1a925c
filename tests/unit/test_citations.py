"""The repository stands alone: every document, module or folder that a file of it cites is in it.

Cited are paths under the repository's top-level folders (``docs/modules/support.md``,
``shared/support/sla.py``, ``tests/events/``), bare document names (``README.md``), and the targets of
relative Markdown links (resolved from the citing file). URL paths (``/docs/assets/...``) and web
addresses are not citations."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP = ("bench", "docs", "functions", "infra", "layers", "scripts", "shared", "spec", "tests")
TEXT = {".py", ".md", ".toml", ".txt", ".sh", ".json", ".cfg", ".ini", ".yml", ".yaml", ""}
# a path that starts a word under a top-level folder: not inside a URL, a dotted name or another path, not an
# HTML attribute (a relative URL) nor what a shell command writes (``> path``)
PATH = re.compile(r"(?<![\w/.:-])(?<!=\")(?<!> )(?:" + "|".join(TOP) + r")/[\w./-]*[\w/]")
DOCUMENT = re.compile(r"(?<![\w/.-])[A-Z][A-Z_]*\.md\b")
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)\s]*)?\)")


def repository_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def citations(path: Path) -> set[tuple[str, Path]]:
    """(as written, where it points) for each citation in ``path``."""
    text = path.read_text(encoding="utf-8", errors="replace")
    found = {(cited, ROOT / cited.rstrip("/")) for cited in PATH.findall(text)}
    for name in DOCUMENT.findall(text):
        beside = path.parent / name
        found.add((name, beside if beside.exists() else ROOT / name))
    if path.suffix == ".md":
        found |= {
            (target, (path.parent / target).resolve())
            for target in LINK.findall(text)
            if not re.match(r"^[a-z]+:", target)  # http:, https:, mailto:
        }
    return found


def test_every_cited_path_is_in_the_repository():
    missing = [
        f"{path.relative_to(ROOT)} cites {cited}"
        for path in repository_files()
        if path.suffix in TEXT and path != Path(__file__).resolve()
        for cited, target in sorted(citations(path))
        if not target.exists()
    ]
    assert not missing, "\n".join(missing)


def test_a_missing_citation_is_found(tmp_path):
    # Given a document citing one path that exists and three that do not
    citing = tmp_path / "NOTES.md"
    citing.write_text(
        "See docs/architecture.md and [the rules](docs/modules/nowhere.md), spec/platform.md, DESIGN.md;"
        ' not https://example.com/docs/x.md, the route /docs/assets/app.js, <a href="docs/x.css"> nor > docs/out.txt'
    )
    # Then exactly the three missing ones are reported
    missing = sorted({cited for cited, target in citations(citing) if not target.exists()})
    assert missing == ["DESIGN.md", "docs/modules/nowhere.md", "spec/platform.md"]
