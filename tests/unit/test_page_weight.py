"""bench/page_weight.py: a page's initial JavaScript is the entry, its own chunk and what they import statically,
each file once; chunks imported dynamically (other pages) are not counted."""

from bench import page_weight

META = {
    "outputs": {
        "dist/assets/main.js": {
            "imports": [
                {"path": "dist/assets/chunk-A.js", "kind": "import-statement"},
                {"path": "dist/assets/page-X.js", "kind": "dynamic-import"},
            ]
        },
        "dist/assets/chunk-A.js": {"imports": []},
        "dist/assets/chunk-B.js": {"imports": [{"path": "dist/assets/chunk-A.js", "kind": "import-statement"}]},
        "dist/assets/page-X.js": {
            "entryPoint": "src/x.js",
            "imports": [{"path": "dist/assets/chunk-B.js", "kind": "import-statement"}],
        },
        "dist/assets/page-Y.js": {"entryPoint": "src/y.js", "imports": []},
    }
}


def test_a_page_counts_the_entry_its_chunk_and_their_static_imports_once():
    assert page_weight.page_files(META, ("src/x.js",)) == {
        "dist/assets/main.js",
        "dist/assets/chunk-A.js",
        "dist/assets/chunk-B.js",
        "dist/assets/page-X.js",
    }
    assert "dist/assets/page-X.js" not in page_weight.page_files(META, ("src/y.js",))


def test_every_page_the_bench_lists_is_a_module_of_the_built_app():
    built = {o["entryPoint"] for o in page_weight.metafile()["outputs"].values() if o.get("entryPoint")}
    assert {m for modules in page_weight.PAGES.values() for m in modules} <= built
