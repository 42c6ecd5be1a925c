"""The JavaScript each page of the web app loads before it shows anything, gzipped (the budget: 100 KB).

Reads esbuild's metafile (web/dist/meta.json, written by web/build.mjs; built first if missing): a page's initial
JavaScript is the entry (assets/main.js), the chunk of the page's own module, and every chunk those import
statically, each counted once. Chunks a page loads later (another screen, an editor) are not initial. Prints
figures; exits 0.

    .venv/bin/python -m bench.page_weight
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from infra.web import DIST_DIR, ENTRY, WEB_DIR

BUDGET_BYTES = 100 * 1024
# page address -> the source modules it opens with (besides src/main.js)
PAGES = {
    "/app/sign-in": ("src/signin.js",),
    "/app/portal/tickets": ("src/portal/portal.js",),
    "/app/console (dashboard)": ("src/console/console.js", "src/console/dashboard.js"),
    "/app/console/inbox": ("src/console/console.js", "src/console/inbox.js"),
    "/app/console/board": ("src/console/console.js", "src/console/board.js"),
    "/app/console/resource": ("src/console/console.js",),
    "/app/survey": ("src/links/survey.js",),
    "/app/vote": ("src/links/vote.js",),
    "/app/unsubscribe": ("src/links/unsubscribe.js",),
    "/app/upload": ("src/links/upload.js",),
}


def metafile() -> dict:
    path = DIST_DIR / "meta.json"
    if not path.exists():
        node = Path(sys.executable).with_name("node")
        subprocess.run([str(node) if node.exists() else "node", "build.mjs"], cwd=WEB_DIR, check=True)
    return json.loads(path.read_text())


def closure(outputs: dict, start: str) -> set[str]:
    """``start`` and every output it imports statically, transitively."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(i["path"] for i in outputs[name]["imports"] if i["kind"] == "import-statement")
    return seen


def page_files(meta: dict, modules: tuple[str, ...]) -> set[str]:
    outputs = meta["outputs"]
    by_module = {o["entryPoint"]: name for name, o in outputs.items() if o.get("entryPoint")}
    files = closure(outputs, f"dist/{ENTRY}")
    for module in modules:
        files |= closure(outputs, by_module[module])
    return files


def gzipped(name: str) -> tuple[int, int]:
    raw = (WEB_DIR / name).read_bytes()
    return len(raw), len(gzip.compress(raw, compresslevel=9))


def main() -> None:
    meta = metafile()
    print(f"Initial JavaScript per page (budget {BUDGET_BYTES // 1024} KB gzipped)")
    print(f"{'page':<28} {'files':>5} {'raw KB':>8} {'gzip KB':>8}  within budget")
    for page, modules in PAGES.items():
        sizes = [gzipped(name) for name in page_files(meta, modules)]
        raw, packed = sum(s[0] for s in sizes), sum(s[1] for s in sizes)
        fits = "yes" if packed <= BUDGET_BYTES else "NO"
        print(f"{page:<28} {len(sizes):>5} {raw / 1024:>8.1f} {packed / 1024:>8.1f}  {fits}")
    everything = [gzipped(f"dist/assets/{p.name}") for p in (DIST_DIR / "assets").glob("*.js")]
    css = gzipped("dist/app.css")
    print(
        f"{'(every chunk of the app)':<28} {len(everything):>5} {sum(s[0] for s in everything) / 1024:>8.1f} "
        f"{sum(s[1] for s in everything) / 1024:>8.1f}"
    )
    print(f"{'(app.css)':<28} {1:>5} {css[0] / 1024:>8.1f} {css[1] / 1024:>8.1f}")


if __name__ == "__main__":
    main()
