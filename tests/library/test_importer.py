"""Importing screenshots: content-hash storage, metadata, and every kind of bad file."""

from __future__ import annotations

import io
import json

from PIL import Image

from tests.plugins.library import make_image_bytes
from tests.plugins.reporting import RecordingReporter
from vspectrum_app.library.images import MAX_PIXELS
from vspectrum_app.library.importer import import_paths, parse_date


def _rows(ws):
    return ws.db.execute("SELECT * FROM images ORDER BY id").fetchall()


def test_import_folder_stores_files_by_hash_with_thumbnails(workspace, image_folder):
    report = import_paths(workspace, [image_folder])
    assert len(report.added) == 6 and report.duplicates == 0 and report.skipped == []
    for row in _rows(workspace):
        stored = workspace.image_path(row["sha256"], row["ext"])
        assert stored.read_bytes() == (image_folder / row["source_name"]).read_bytes()
        thumb = Image.open(workspace.thumb_path(row["sha256"]))
        assert max(thumb.size) <= 256
    assert {r["ext"] for r in _rows(workspace)} == {"jpg", "png", "webp"}


def test_reimport_is_a_no_op(workspace, image_folder):
    import_paths(workspace, [image_folder])
    before = [tuple(r) for r in _rows(workspace)]
    report = import_paths(workspace, [image_folder])
    assert report.added == [] and report.duplicates == 6
    assert [tuple(r) for r in _rows(workspace)] == before


def test_metadata_csv_known_and_extra_columns(workspace, image_folder, tmp_path):
    csv_path = tmp_path / "meta.csv"
    csv_path.write_text(
        "file,Video Link,Platform,Post Date,likes,mood\n"
        "shot0.jpg,https://www.tiktok.com/@a/video/1,TikTok,2024-08-03,120,happy\n"
        "shot1.png,https://youtube.com/shorts/x,Youtube,Aug 5, 2024,7,\n".replace("Aug 5, 2024", '"Aug 5, 2024"')
    )
    import_paths(workspace, [image_folder], metadata_csv=csv_path)
    rows = {r["source_name"]: r for r in _rows(workspace)}
    assert rows["shot0.jpg"]["video_url"] == "https://www.tiktok.com/@a/video/1"
    assert rows["shot0.jpg"]["platform"] == "tiktok"
    assert rows["shot0.jpg"]["post_date"] == "2024-08-03"
    assert json.loads(rows["shot0.jpg"]["extra_json"]) == {"likes": "120", "mood": "happy"}
    assert rows["shot1.png"]["platform"] == "youtube"
    assert rows["shot1.png"]["post_date"] == "2024-08-05"
    assert rows["shot2.webp"]["video_url"] is None


def test_bad_files_are_reported_one_line_each_and_skipped(workspace, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    good = make_image_bytes(seed=1)
    (folder / "good.jpg").write_bytes(good)
    (folder / "zero.jpg").write_bytes(b"")
    (folder / "text.png").write_text("this is not an image")
    (folder / "truncated.jpg").write_bytes(make_image_bytes(seed=2, size=(400, 400))[:1500])
    corrupt = bytearray(make_image_bytes(seed=3, fmt="PNG", size=(200, 200)))
    corrupt[200:260] = b"\x00" * 60
    (folder / "corrupt.png").write_bytes(bytes(corrupt))
    bomb = io.BytesIO()
    Image.new("1", (8000, 8000)).save(bomb, "PNG")  # 64 MP canvas in a few KB
    (folder / "bomb.png").write_bytes(bomb.getvalue())
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    (folder / "anim.webp").write_bytes(gif.getvalue())  # wrong format under an image suffix
    (folder / "good2.png").write_bytes(make_image_bytes(seed=4, fmt="PNG"))

    reporter = RecordingReporter()
    report = import_paths(workspace, [folder], reporter=reporter)
    skipped = dict((p.split("/")[-1], r) for p, r in report.skipped)
    assert set(skipped) == {"zero.jpg", "text.png", "truncated.jpg", "corrupt.png", "bomb.png", "anim.webp"}
    assert skipped["zero.jpg"] == "empty file"
    assert "not an image" in skipped["text.png"]
    assert "truncated" in skipped["truncated.jpg"] or "corrupt" in skipped["truncated.jpg"]
    assert "too large" in skipped["bomb.png"]
    assert "GIF" in skipped["anim.webp"]
    assert len(report.added) == 2
    warnings = [e["message"] for e in reporter.of_type("log") if e["level"] == "warning"]
    assert len(warnings) == 6 and all("\n" not in w for w in warnings)
    assert 8000 * 8000 > MAX_PIXELS


def test_bad_file_does_not_touch_what_was_imported(workspace, tmp_path):
    (tmp_path / "a.jpg").write_bytes(make_image_bytes(seed=9))
    import_paths(workspace, [tmp_path / "a.jpg"])
    before = [tuple(r) for r in _rows(workspace)]
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8\xff garbage")
    report = import_paths(workspace, [tmp_path / "b.jpg"])
    assert len(report.skipped) == 1
    assert [tuple(r) for r in _rows(workspace)] == before


def test_pilot_screenshots_import_with_their_answers(workspace, pilot_dir):
    report = import_paths(
        workspace,
        [pilot_dir / "gpt4o-tiktok", pilot_dir / "gpt4o-youtube", pilot_dir / "gppt4o-Ins"],
        metadata_csv=pilot_dir / "experiment_data_plain_gpto_youtube.csv",
    )
    assert len(report.added) == 150 and report.skipped == []
    row = workspace.db.execute("SELECT * FROM images WHERE source_name = 'Youtube2.jpeg'").fetchone()
    assert (row["width"], row["height"]) == (144, 256)
    assert row["platform"] == "youtube"
    assert "middle child" in json.loads(row["extra_json"])["Reason"]


def test_parse_date_formats():
    assert parse_date("2024-10-31") == "2024-10-31"
    assert parse_date("2024-10-31T12:00:00Z") == "2024-10-31"
    assert parse_date("Oct 31, 2024") == "2024-10-31"
    assert parse_date("31.10.2024") == "2024-10-31"
    assert parse_date("3 days ago") is None
