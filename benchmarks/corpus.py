"""The benchmark corpus: every local authority's nine CQC quality statement pages and its CQC
summary page (HTML), and its Ofsted ILACS report (PDF), in four states a watcher sees in turn:

    0 cold        the first fetch of everything
    1 unchanged   nothing changed (the server answers 304 to a conditional request)
    2 chrome      only the chrome changed (navigation, cookie banner, promo, cache-busting
                  tokens) and every page's "Page last updated" stamp
    3 changed     about 10% of documents changed in substance (a score or grade, findings
                  reworded, added or removed), and the chrome changed again

`write_corpus` writes the files of each distinct state under `<out>/state-N/` (the first two
phases share state 0) with an `index.json` (path -> file, content type, ETag), and the truth of
what changed, `<out>/truth.json`: for every document that changed in substance, the change kinds
a reader must be told about.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from pathlib import Path
from typing import Any

from benchmarks import pages
from benchmarks.authorities import AUTHORITIES
from benchmarks.texts import (
    AUTHORITY_MARK,
    COMMITMENTS,
    EVIDENCE_AREAS,
    I_STATEMENTS,
    cqc_sentences,
    ofsted_sentences,
    theme_for,
)
from reportwatch.vocab import (
    GRADES,
    JUDGEMENTS,
    OVERALL,
    STATEMENTS,
    percent_for_scores,
    rating_for_percent,
    slug,
)

DOCS_PER_AUTHORITY = len(STATEMENTS) + 2  # nine statement pages, the summary page, the PDF
PHASES = ("cold", "unchanged", "chrome", "changed")
STATE_OF_PHASE = {"cold": 0, "unchanged": 0, "chrome": 1, "changed": 2}
SHARE_CHANGED = 0.10
INSPECTORS = ("Claire Beckingham", "Nick Stacey", "Lisa Walsh", "Tracey Ledder", "Kate Malleson")
Doc = dict[str, Any]


def authority_names(count: int) -> list[str]:
    """Return `count` authority names: the real 153 first, then numbered areas of them (only the
    growth runs need more documents than England has)."""
    names = []
    for i in range(count):
        base = AUTHORITIES[i % len(AUTHORITIES)]
        names.append(base if i < len(AUTHORITIES) else f"{base} Area {i // len(AUTHORITIES) + 1}")
    return names


def marked(text: str, authority: str) -> str:
    """Return pool text with the authority's name filled in."""
    return text.replace(AUTHORITY_MARK, authority)


def draw_paragraphs(
    rng: random.Random, pool: list[str], count: int, per: tuple[int, int]
) -> list[str]:
    """Return `count` paragraphs of sentences popped from `pool` (so none repeats in a document)."""
    return [" ".join(pool.pop() for _ in range(rng.randint(*per))) for _ in range(count)]


def statement_doc(rng: random.Random, authority: str, statement: str) -> Doc:
    """Return one quality statement page's content: score, commitment, expectations, findings
    grouped under two or three evidence areas."""
    theme = theme_for(statement)
    pool = [marked(s, authority) for s in cqc_sentences()]
    rng.shuffle(pool)
    areas = rng.sample(EVIDENCE_AREAS[theme], rng.randint(2, 3))
    return {
        "statement": statement,
        "score": rng.choices((1, 2, 3, 4), weights=(1, 8, 10, 1))[0],
        "commitment": COMMITMENTS[statement],
        "expectations": list(I_STATEMENTS.get(theme, ())),
        "areas": [[area, draw_paragraphs(rng, pool, rng.randint(3, 5), (1, 3))] for area in areas],
        "updated": "3 April 2025",
    }


def summary_doc(rng: random.Random, authority: str, statements: dict[str, Doc]) -> Doc:
    """Return an assessment summary page's content, its scores those of the statement pages."""
    pool = [marked(s, authority) for s in cqc_sentences()]
    rng.shuffle(pool)
    doc: Doc = {"experiences": draw_paragraphs(rng, pool, 3, (2, 3)), "updated": "3 April 2025"}
    return rescore(doc, {name: page["score"] for name, page in statements.items()})


def rescore(summary: Doc, scores: dict[str, int]) -> Doc:
    """Set a summary's statement scores and the percentage and rating they give."""
    summary["scores"] = dict(scores)
    summary["percent"] = percent_for_scores(list(scores.values()))
    summary["rating"] = rating_for_percent(summary["percent"]) or "Inadequate"
    return summary


def ilacs_doc(rng: random.Random, authority: str, number: int) -> Doc:
    """Return an Ofsted ILACS report's content: grades, overview, improvements, sections."""
    pool = [marked(s, authority) for s in ofsted_sentences()]
    rng.shuffle(pool)
    grades = {j: rng.choices(GRADES, weights=(2, 6, 8, 2))[0] for j in JUDGEMENTS[:4]}
    grades[OVERALL] = grades[JUDGEMENTS[0]]
    return {
        "number": number,
        "dates": f"{rng.randint(1, 9)} to {rng.randint(12, 20)} October 2024",
        "inspector": rng.choice(INSPECTORS),
        "created": "2024-12-02T09:00:00",
        "grades": grades,
        "overview": draw_paragraphs(rng, pool, 2, (3, 4)),
        "improve": [pool.pop() for _ in range(rng.randint(3, 5))],
        "sections": {
            j: draw_paragraphs(rng, pool, rng.randint(8, 12), (2, 4)) for j in JUDGEMENTS[:4]
        },
        "spare": pool[:40],  # sentences for findings added later
    }


def build_world(authorities: int, seed: int = 7) -> dict[str, Any]:
    """Return the content of every document of the first `authorities` authorities (state 0)."""
    world: dict[str, Any] = {}
    for index, name in enumerate(authority_names(authorities)):
        rng = random.Random(f"{seed}/{name}")
        statements = {s: statement_doc(rng, name, s) for s in STATEMENTS}
        world[name] = {
            "statements": statements,
            "summary": summary_doc(rng, name, statements),
            "ilacs": ilacs_doc(rng, name, 50240000 + index),
        }
    return world


# --- where each document is served ---------------------------------------------------------


def documents(world: dict[str, Any]) -> list[tuple[str, str, str, Doc]]:
    """Return every document as (path, authority, kind, content), in a stable order."""
    docs = []
    for name, parts in world.items():
        base = f"/care-services/local-authority-assessment/{slug(name)}"
        for statement, doc in parts["statements"].items():
            docs.append((f"{base}/{slug(statement)}", name, "statement", doc))
        docs.append((f"{base}/summary", name, "summary", parts["summary"]))
        docs.append((f"/v1/file/{parts['ilacs']['number']}", name, "ilacs", parts["ilacs"]))
    return docs


def render(kind: str, doc: Doc, authority: str, path: str, variant: int) -> tuple[bytes, str]:
    """Return a document's bytes and content type in a chrome variant."""
    doc = {**doc, "id": path}
    if kind == "statement":
        return pages.statement_page(doc, authority, variant), "text/html; charset=utf-8"
    if kind == "summary":
        return pages.summary_page(doc, authority, variant), "text/html; charset=utf-8"
    return pages.ilacs_pdf(doc, authority), "application/pdf"


# --- changes of substance ------------------------------------------------------------------


def reword(rng: random.Random, text: str) -> str:
    """Return a paragraph with one word changed, as an editor's correction changes it."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if w.isalpha() and len(w) > 4]
    i = rng.choice(candidates)
    words[i] = rng.choice(("notably", "considerably", "increasingly", "consistently"))
    return " ".join(words)


def change_statement(rng: random.Random, doc: Doc, pool: list[str]) -> set[str]:
    """Change a statement page in substance; return the change kinds a reader must be told."""
    kinds: set[str] = set()
    what = rng.choice(("score", "score+reword", "reword", "add", "remove"))
    if "score" in what:
        doc["score"] = (
            3
            if doc["score"] == 2
            else 2
            if doc["score"] == 3
            else doc["score"] + (1 if doc["score"] == 1 else -1)
        )
        kinds.add("score_changed")
    paragraphs = rng.choice([p for _, p in doc["areas"] if len(p) > 1])
    at = rng.randrange(len(paragraphs))
    if "reword" in what:
        paragraphs[at] = reword(rng, paragraphs[at])
        kinds.add("finding_reworded")
    elif what == "add":
        paragraphs.insert(at, " ".join(pool.pop() for _ in range(2)))
        kinds.add("finding_added")
    elif what == "remove":
        del paragraphs[at]
        kinds.add("finding_removed")
    doc["updated"] = "14 July 2025"
    return kinds


def change_ilacs(rng: random.Random, doc: Doc) -> set[str]:
    """Change an ILACS report in substance (a new inspection or a correction); return the kinds."""
    what = rng.choice(("grade", "reword", "improve", "add"))
    if what == "grade":
        judgement = rng.choice(JUDGEMENTS[1:4])
        rank = GRADES.index(doc["grades"][judgement])
        doc["grades"][judgement] = GRADES[rank + 1 if rank < 2 else rank - 1]
        doc["dates"], doc["created"] = "3 to 14 March 2025", "2025-04-30T09:00:00"
        return {"grade_changed"}
    section = doc["sections"][rng.choice(JUDGEMENTS[:4])]
    at = rng.randrange(len(section))
    if what == "reword":
        section[at] = reword(rng, section[at])
        return {"finding_reworded"}
    if what == "improve":
        doc["improve"].append(doc["spare"].pop())
        return {"improvement_added"}
    section.insert(at, " ".join(doc["spare"].pop() for _ in range(2)))
    return {"finding_added"}


def change_world(
    world: dict[str, Any], seed: int = 7
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Return a copy of the world with about 10% of statement pages and ILACS reports changed in
    substance (and the summary pages whose scores follow), and the truth: path -> change kinds."""
    world = copy.deepcopy(world)
    rng = random.Random(f"{seed}/changes")
    docs = [d for d in documents(world) if d[2] != "summary"]
    chosen = rng.sample(docs, max(1, round(len(docs) * SHARE_CHANGED)))
    truth: dict[str, list[str]] = {}
    pool = list(cqc_sentences())
    rng.shuffle(pool)
    for path, name, kind, doc in sorted(chosen):
        if kind == "ilacs":
            truth[path] = sorted(change_ilacs(rng, doc))
            continue
        text = " ".join(p for _, paragraphs in doc["areas"] for p in paragraphs)
        spare = [marked(s, name) for s in pool if marked(s, name) not in text]
        truth[path] = sorted(change_statement(rng, doc, spare))
    for path, name, kind, doc in documents(world):
        if kind != "summary":
            continue
        scores = {s: page["score"] for s, page in world[name]["statements"].items()}
        if scores != doc["scores"]:
            kinds = {"score_changed"}
            if rating_for_percent(percent_for_scores(list(scores.values()))) != doc["rating"]:
                kinds.add("rating_changed")
            rescore(doc, scores)
            doc["updated"] = "14 July 2025"
            truth[path] = sorted(kinds)
    return world, truth


def republished(world: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of the world with every HTML page's "Page last updated" stamp moved on."""
    world = copy.deepcopy(world)
    for _, _, kind, doc in documents(world):
        if kind != "ilacs":
            doc["updated"] = "28 May 2025"
    return world


# --- writing the states --------------------------------------------------------------------


def write_state(folder: Path, world: dict[str, Any], variant: int) -> dict[str, dict[str, str]]:
    """Write every document of a world in a chrome variant; return and write its index."""
    index = {}
    for number, (path, name, kind, doc) in enumerate(documents(world)):
        body, ctype = render(kind, doc, name, path, variant)
        file = folder / "files" / f"{number:06d}"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(body)
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        index[path] = {"file": file.name, "type": ctype, "etag": etag}
    (folder / "index.json").write_text(json.dumps(index, indent=1))
    return index


def write_corpus(out: Path, authorities: int, seed: int = 7) -> dict[str, Any]:
    """Write the four states of a corpus of `authorities` authorities under `out`, with
    truth.json; return the truth (per phase: path -> change kinds; and the paths)."""
    out.mkdir(parents=True, exist_ok=True)
    first = build_world(authorities, seed)
    second = republished(first)
    third, changed = change_world(second, seed)
    paths: list[str] = []
    for number, world in enumerate((first, second, third)):
        paths = list(write_state(out / f"state-{number}", world, variant=number))
    truth = {
        "documents": len(paths),
        "paths": paths,
        "phases": {"cold": {}, "unchanged": {}, "chrome": {}, "changed": changed},
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth
