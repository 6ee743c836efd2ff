"""A metadata CSV with bad rows (issue 14, item 8): each bad row is skipped and counted, the
import goes on; only a file that is not a metadata CSV at all is refused."""

import json

import pytest

from vspectrum_app.cli import main
from vspectrum_app.library.importer import MetadataError, import_paths, read_metadata_csv


def _rows(ws):
    return {r["source_name"]: dict(r) for r in ws.db.execute("SELECT * FROM images")}


def test_bad_feed_positions_skip_their_row_only(workspace, image_folder, tmp_path):
    csv_path = tmp_path / "meta.csv"
    csv_path.write_text("file,feed_position,author\nshot0.jpg,abc,ana\nshot1.png,1.0,ben\nshot2.webp, 7 ,cleo\n")
    report = import_paths(workspace, [image_folder], metadata_csv=csv_path)
    assert len(report.added) == 6  # every image is imported
    assert report.metadata_rows_skipped == [
        "meta.csv: line 2, column 'feed_position': expected a whole number, got 'abc'",
        "meta.csv: line 3, column 'feed_position': expected a whole number, got '1.0'",
    ]
    rows = _rows(workspace)
    assert rows["shot2.webp"]["feed_position"] == 7 and rows["shot2.webp"]["author"] == "cleo"
    assert rows["shot0.jpg"]["author"] is None  # nothing of a skipped row is used
    assert report.as_dict()["metadata_rows_skipped"] == report.metadata_rows_skipped


def test_a_huge_cell_skips_its_row(tmp_path):
    csv_path = tmp_path / "meta.csv"
    csv_path.write_text("file,caption\nshot0.jpg," + "x" * 20_000 + "\nshot1.png,ok\n")
    skipped = []
    assert list(read_metadata_csv(csv_path, skipped)) == ["shot1.png"]
    assert skipped == ["meta.csv: line 2, column 'caption': text of at most 10,000 characters expected, got 20,000"]


def test_the_cli_counts_skipped_rows_and_succeeds(workspace, image_folder, tmp_path, capsys):
    csv_path = tmp_path / "meta.csv"
    csv_path.write_text("file,feed_position\nshot0.jpg,abc\nshot1.png,2\n")
    root = str(workspace.root)
    workspace.close()
    assert main(["-w", root, "library", "import", str(image_folder), "--metadata", str(csv_path)]) == 0
    err = capsys.readouterr().err
    assert "1 metadata rows skipped (the first: meta.csv: line 2, column 'feed_position'" in err
    assert "Traceback" not in err and "ValueError" not in err
    assert main(["-w", root, "library", "import", str(image_folder), "--metadata", str(csv_path), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["metadata_rows_skipped"]) == 1


@pytest.mark.parametrize(
    "data", [b"name,age\nshot0.jpg,1\n", b"\xff\xfe\x00\x00", b'file\n"unclosed\n' + b"x" * 200_000]
)
def test_a_file_that_is_not_a_metadata_csv_is_one_sentence(tmp_path, data):
    csv_path = tmp_path / "meta.csv"
    csv_path.write_bytes(data)
    with pytest.raises(MetadataError):
        read_metadata_csv(csv_path)
