"""Property-based fuzzing of every parser of outside input (issue 14, "Also"): whatever a file,
a model or a URL holds, the parser answers or raises the app's own error, one sentence,
never anything else. Bounded (examples per property, no deadline) so the set runs in seconds."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vspectrum_app.annotate.exchange import FORMAT, import_answers
from vspectrum_app.annotate.store import AnnotationError
from vspectrum_app.bench.parsing import classify_answer, paper_style
from vspectrum_app.core.paths import resources_dir
from vspectrum_app.crawl.adapters import Adapter, AdapterError
from vspectrum_app.library.importer import MetadataError, read_metadata_csv
from vspectrum_app.persona.parsing import parse_isq, parse_simple
from vspectrum_app.persona.personas import PersonaError, parse_file

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)

# Any JSON document (what json.loads can give back), small.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
BIG_NUMBERS = st.sampled_from([10**400, -(10**400), float("inf"), float("-inf"), float("nan"), 1e308, 0, -1])


def _one_line(exc: Exception) -> None:
    assert str(exc) and "\n" not in str(exc) and "Traceback" not in str(exc)


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def _mutate(doc, path: list, value):
    """``doc`` with the value at ``path`` (keys or indices, as far as they reach) replaced."""
    doc = copy.deepcopy(doc)
    node = doc
    for step in path[:-1]:
        if (
            isinstance(node, dict)
            and step in node
            or isinstance(node, list)
            and isinstance(step, int)
            and step < len(node)
        ):
            node = node[step]
        else:
            return doc
    last = path[-1]
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
    return doc


def _paths(doc, prefix=()):
    yield list(prefix) if prefix else ["format"]
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            yield from _paths(v, prefix + (i,))


# -- model answers ---------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=300))
def test_answer_text_is_always_classified(text):
    assert classify_answer(text) in ("yes", "no", "refusal", "unparsed")
    assert isinstance(paper_style(text), str)


ISQ_KEYS = [
    "visual_appeal",
    "preference_alignment",
    "curiosity_stimulation",
    "emotional_engagement",
    "action_desire",
    "value_expectation",
    "trait_num",
    "decision",
    "reason",
]


@FUZZ
@given(
    st.dictionaries(st.sampled_from(ISQ_KEYS) | st.text(max_size=8), JSON | BIG_NUMBERS, max_size=9),
    st.sampled_from(["{}", "```json\n{}\n```", "Sure! {} Hope this helps", "{{}}", "{}}"]),
    st.integers(min_value=1, max_value=60),
)
def test_isq_and_simple_answers_never_raise(mapping, wrapper, max_trait):
    for text in (wrapper.replace("{}", repr(mapping)), wrapper.replace("{}", json.dumps(mapping, default=str))):
        answer = parse_isq(text, max_trait)
        assert answer.fields["trait_num"] is None or 1 <= answer.fields["trait_num"] <= max_trait
        parse_simple(text)


@FUZZ
@given(st.text(max_size=400))
def test_isq_free_text_never_raises(text):
    parse_isq(text, 5)
    parse_simple(text)


# -- files -----------------------------------------------------------------------------------


@FUZZ
@given(JSON, st.sampled_from(["json", "list", "chat"]), st.text(max_size=300))
def test_persona_files(scratch, doc, kind, text):
    path = scratch / "personas.txt"
    if kind == "json":
        path.write_text(json.dumps({"personas": doc} if isinstance(doc, list) and doc else doc))
    else:  # lone surrogates become bytes that are not UTF-8, as in a damaged file
        path.write_bytes((("your persona: " if kind == "chat" else "") + text).encode("utf-8", "surrogatepass"))
    try:
        personas = parse_file(path)
    except PersonaError as exc:
        _one_line(exc)
    else:
        assert all(p.statements and all(isinstance(s, str) for s in p.statements) for p in personas)


VALID_EXPORT = {
    "format": FORMAT,
    "set": {"id": "ann-fuzz", "name": "fuzz", "kind": "value", "raters": 3, "config": {}},
    "items": [{"image_sha256": "a" * 64, "value": "Power", "video_url": None}],
    "answers": [
        {
            "image_sha256": "a" * 64,
            "value": "Power",
            "annotator": "Ana",
            "question": "screenshot",
            "answer": "yes",
            "comment": "",
            "seconds": 1.5,
            "created_at": "2026-01-01T00:00:00+00:00",
            "retracted": 0,
        }
    ],
}
EXPORT_PATHS = list(_paths(VALID_EXPORT))


@FUZZ
@given(st.sampled_from(EXPORT_PATHS), JSON | BIG_NUMBERS, st.booleans())
def test_annotation_files(workspace_for_fuzz, scratch, path, value, whole):
    doc = value if whole else _mutate(VALID_EXPORT, path, value)
    file = scratch / "answers.json"
    file.write_text(json.dumps(doc))
    before = workspace_for_fuzz.db.execute("SELECT COUNT(*) FROM ann_answers").fetchone()[0]
    try:
        import_answers(workspace_for_fuzz, file)
    except AnnotationError as exc:
        _one_line(exc)
        assert workspace_for_fuzz.db.execute("SELECT COUNT(*) FROM ann_answers").fetchone()[0] == before
    rows = workspace_for_fuzz.db.execute("SELECT answer, question, retracted FROM ann_answers").fetchall()
    assert all(r[0] in ("yes", "no", "not_sure") and r[1] in ("screenshot", "video") and r[2] in (0, 1) for r in rows)


@pytest.fixture(scope="module")
def workspace_for_fuzz(scratch):
    from vspectrum_app.annotate.store import AnnotationStore
    from vspectrum_app.library.catalog import open_workspace

    ws = open_workspace(scratch / "ws")
    AnnotationStore(ws)  # its tables exist before the first import
    yield ws
    ws.close()


CSV_CELLS = st.text(alphabet=st.sampled_from('ab1.-,"\n\r\t =+@ x:/\u00e9'), max_size=12)


@FUZZ
@given(
    st.lists(
        st.sampled_from(["file", "feed_position", "post_date", "platform", "Video Link", "flags", "", "x"]),
        min_size=1,
        max_size=6,
    ),
    st.lists(st.lists(CSV_CELLS, max_size=7), max_size=6),
    st.binary(max_size=20),
)
def test_metadata_csv(scratch, header, rows, junk):
    from vspectrum_app.core import csvfile

    path = scratch / "meta.csv"
    text = csvfile.to_text(header, [[f"shot{n}.jpg", *row] for n, row in enumerate(rows)])
    path.write_bytes(text.encode() + junk)
    skipped: list[str] = []
    try:
        read_metadata_csv(path, skipped)
    except MetadataError as exc:
        _one_line(exc)
    for reason in skipped:
        assert reason.startswith("meta.csv: line ")


SHIPPED = {
    p: json.loads((resources_dir() / "crawl" / "selectors" / f"{p}.json").read_text())
    for p in ("tiktok", "youtube", "instagram")
}
SELECTOR_PATHS = [(p, path) for p, doc in SHIPPED.items() for path in _paths(doc)]
SELECTOR_TEXT = st.text(alphabet=st.sampled_from("[]()'\"=,>+~ .#:*-_{}a1\\|^$?"), max_size=20)


@FUZZ
@given(st.sampled_from(SELECTOR_PATHS), JSON | SELECTOR_TEXT)
def test_selector_files(where, value):
    platform, path = where
    try:
        adapter = Adapter(_mutate(SHIPPED[platform], path, value))
    except AdapterError as exc:
        _one_line(exc)
    else:
        assert isinstance(adapter.spec["fields"], dict)


# -- the simulator's query strings (the page passes ?seed=&session=&inject=&start= on) ---------


@pytest.fixture(scope="module")
def sim(sim_catalog):
    from vspectrum_app.sim.clock import VirtualClock
    from vspectrum_app.sim.server import SimPlatform, SimServer

    with SimServer(SimPlatform(sim_catalog, VirtualClock(speed=1.0), seed=1)) as server:
        yield server


QUERY_VALUE = (
    st.none()
    | st.text(max_size=15)
    | st.from_regex(r"-?\d{1,30}", fullmatch=True)
    | st.from_regex(r"((black|ad|dup|repost|login|captcha|x):\d{0,3},?){0,3}", fullmatch=True)
)


@FUZZ
@given(
    st.fixed_dictionaries(
        {}, optional={"seed": QUERY_VALUE, "session": QUERY_VALUE, "inject": QUERY_VALUE, "start": QUERY_VALUE}
    )
)
def test_simulator_query_strings_are_answered_or_refused(sim, body):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{sim.url}/api/next",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            assert "key" in json.loads(response.read())
    except urllib.error.HTTPError as exc:
        assert exc.code == 400, exc.read()
