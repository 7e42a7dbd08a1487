"""Contact extraction per page: what the site visit does with every producer-site page.

    .venv/bin/python bench/contacts_extraction.py [--rounds 10] [--baseline main]
    .venv/bin/python bench/contacts_extraction.py --profile   # cProfile of this tree's code

Pages: the synthetic producer site of ``tests/support/synthetic_web.py`` (a home page, a
contact page and a Kiwify checkout for 20 producers) and every saved producer site under
``tests/fixtures/web`` (``www.*`` and ``linktr.ee``). Each page is read as a crawl reads it:
a fresh :class:`~leadcrawler.extraction.page.Page` (parsed once into a tree, as Scrapy's
response is), then ``extract_page`` and ``contact_page_links``, the two calls of the site
visit. The time per page includes the parse; ``parse only`` shows that share. The
per-host and per-class-attribute caches are emptied before every page, so no page gains
from another page's work.

With ``--baseline REF`` the whole tree of git revision REF (``git archive``: its
extraction and its domain code) is timed against this tree, each in its own worker process,
rounds alternating between the two so both see the same machine load; both must give the
same answers on every page.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "tests" / "fixtures" / "web"
PRODUCERS = 20


def _url(root: Path, file: Path) -> str:
    relative = file.relative_to(root)
    host, parts = relative.parts[0], list(relative.parts[1:])
    if parts[-1] == "index.html":
        parts[-1] = ""
    elif parts[-1].endswith(".html"):
        parts[-1] = parts[-1].removesuffix(".html")
    return f"https://{host}/" + "/".join(parts)


def load_pages() -> list[tuple[str, str]]:
    """``(url, html)`` of every benchmarked page."""
    sys.path.insert(0, str(ROOT))
    from tests.support.synthetic_web import write_producers

    pages: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = Path(tmp)
        write_producers(synthetic, PRODUCERS)
        for file in sorted(synthetic.rglob("*")):
            if file.is_file() and not file.name.startswith("_"):
                pages.append((_url(synthetic, file), file.read_text("utf-8")))
    for site in sorted(WEB.iterdir()):
        if not (site.name.startswith("www.") or site.name == "linktr.ee"):
            continue
        for file in sorted(site.rglob("*.html")):
            pages.append((_url(WEB, file), file.read_text("utf-8")))
    return pages


# --- the worker: one tree, some rounds ------------------------------------------------


def _caches() -> list[Any]:
    """The caches this tree keeps across pages (none in older trees)."""
    import leadcrawler.domain.urls as urls

    found = [getattr(urls, "canonical_host", None), getattr(urls, "_registered_host", None)]
    try:
        from leadcrawler.extraction.contacts import tree

        found.append(getattr(tree, "_class_words", None))
    except ImportError:
        pass
    return [cache for cache in found if hasattr(cache, "cache_clear")]


def read_all(pages: list[tuple[str, str]]) -> list[Any]:
    from leadcrawler.extraction.contacts import contact_page_links, extract_page
    from leadcrawler.extraction.page import Page

    caches = _caches()
    answers = []
    for url, html in pages:
        for cache in caches:
            cache.cache_clear()
        page = Page(url, html)
        found = extract_page(page)
        answers.append((found, contact_page_links(page)))
    return answers


def digest(answers: list[Any]) -> str:
    shape = [
        (
            [(c.kind, c.value, c.method, c.certainty, c.details) for c in found.contacts],
            found.cnpjs,
            found.legal_names,
            [(p.platform, p.url, p.product_id) for p in found.platform_links],
            found.rejected,
            links,
        )
        for found, links in answers
    ]
    return hashlib.sha256(repr(shape).encode()).hexdigest()


def worker(tree: Path, pages_file: Path, rounds: int) -> None:
    sys.path.insert(0, str(tree))
    pages = [tuple(p) for p in json.loads(pages_file.read_text("utf-8"))]
    answer = digest(read_all(pages))  # warm-up: imports, tldextract's snapshot
    start = time.perf_counter()
    for _ in range(rounds):
        read_all(pages)
    seconds = time.perf_counter() - start
    from leadcrawler.extraction.page import Page

    start = time.perf_counter()
    for _ in range(rounds):
        for url, html in pages:
            Page(url, html).selector  # noqa: B018
    parse = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "parse": parse, "digest": answer}))


# --- the driver -----------------------------------------------------------------------


def export_tree(ref: str) -> Path:
    """The files of git revision ``ref`` in a temporary folder."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "leadcrawler"], check=True, capture_output=True
    ).stdout
    where = Path(tempfile.mkdtemp(prefix=f"bench-{ref.replace('/', '_')}-"))
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")
    return where


def run_worker(tree: Path, pages_file: Path, rounds: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(tree), str(pages_file), str(rounds)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        worker(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10, help="rounds per tree (default 10)")
    parser.add_argument("--per-worker", type=int, default=5, help="rounds per worker process")
    parser.add_argument("--baseline", help="git revision to time side by side (e.g. main)")
    parser.add_argument("--profile", action="store_true", help="cProfile this tree's code")
    args = parser.parse_args()

    pages = load_pages()
    if args.profile:
        sys.path.insert(0, str(ROOT))
        read_all(pages)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.rounds):
            read_all(pages)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return

    trees = {"this tree": ROOT}
    if args.baseline:
        trees = {f"baseline {args.baseline}": export_tree(args.baseline), **trees}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(pages, handle)
    pages_file = Path(handle.name)
    load = os.getloadavg()
    print(
        f"{len(pages)} pages, {args.rounds} rounds per tree, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    totals = {name: 0.0 for name in trees}
    parse = 0.0
    digests: dict[str, str] = {}
    done = 0
    while done < args.rounds:
        rounds = min(args.per_worker, args.rounds - done)
        for name, tree in trees.items():
            result = run_worker(tree, pages_file, rounds)
            totals[name] += result["seconds"]
            digests[name] = result["digest"]
            if tree == ROOT:
                parse += result["parse"]
        done += rounds
    pages_file.unlink()
    for tree in trees.values():
        if tree != ROOT:
            shutil.rmtree(tree)
    count = len(pages) * args.rounds
    for name, seconds in totals.items():
        print(f"{name:>20}: {1000 * seconds / count:6.2f} ms/page")
    print(f"{'parse only':>20}: {1000 * parse / count:6.2f} ms/page")
    if len(set(digests.values())) > 1:
        raise SystemExit("the trees read the pages differently")
    print("same answers on every page")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
