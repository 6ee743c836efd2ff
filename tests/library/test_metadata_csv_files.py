"""Issue 27 item 15: metadata CSVs as spreadsheets really write them, and hostile ones: a 1 MB cell
skips its row (not the import), latin-1 and UTF-16 files read, repeated rows and columns said,
links out of the imported folder not followed, a newline in a file name forges no log line."""

from __future__ import annotations

import os
import threading

import pytest

from tests.plugins.library import make_image_bytes
from vspectrum_app.cli import main
from vspectrum_app.library.importer import MetadataError, import_paths, read_metadata_csv


def _authors(ws):
    return {r["source_name"]: r["author"] for r in ws.db.execute("SELECT source_name, author FROM images")}


def test_a_1_mb_cell_skips_and_counts_its_row_only(workspace, image_folder, tmp_path):
    csv_path = tmp_path / "meta.csv"
    huge = "x" * (1 << 20)
    csv_path.write_text(
        f"file,caption,author\nshot0.jpg,{huge},ana\n{huge},short,ben\nshot1.png,fine,cleo\n", encoding="utf-8"
    )
    report = import_paths(workspace, [image_folder], metadata_csv=csv_path)
    assert len(report.added) == 6
    assert report.metadata_rows_skipped == [
        "meta.csv: line 2, column 'caption': text of at most 10,000 characters expected, got 1,048,576"
    ]  # the row whose file cell is 1 MB names no image: ignored, as any row without one
    assert _authors(workspace) == {
        "shot0.jpg": None,
        "shot1.png": "cleo",
        **{name: None for name in _authors(workspace) if name not in ("shot0.jpg", "shot1.png")},
    }


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16", "utf-16-be-bom", "utf-8-sig"])
def test_spreadsheet_encodings_are_read(tmp_path, encoding):
    text = "file,author,caption\nshot0.jpg,José Müller,Crème brûlée\n"
    data = ("\ufeff" + text).encode("utf-16-be") if encoding == "utf-16-be-bom" else text.encode(encoding)
    csv_path = tmp_path / "meta.csv"
    csv_path.write_bytes(data)
    notes: list[str] = []
    rows = read_metadata_csv(csv_path, [], notes)
    assert rows == {"shot0.jpg": {"author": "José Müller", "caption": "Crème brûlée"}}
    if encoding in ("latin-1", "cp1252"):
        assert notes == [
            "meta.csv is not UTF-8: read as Windows-1252 (Western European); save it as UTF-8 if its accents look wrong"
        ]
    else:
        assert notes == []


def test_a_false_bom_is_one_sentence(tmp_path):
    csv_path = tmp_path / "meta.csv"
    csv_path.write_bytes(b"\xff\xfe" + "file\nshot0.jpg\n".encode("utf-16-le") + b"\x00\xd8")  # a lone surrogate
    with pytest.raises(MetadataError, match=r"starts as UTF-16 but is not"):
        read_metadata_csv(csv_path)


def test_repeated_rows_are_reported_and_the_first_kept(workspace, image_folder, tmp_path):
    csv_path = tmp_path / "meta.csv"
    csv_path.write_text(
        "file,author\nshot0.jpg,ana\nshot1.png,ben\nSHOT0.jpg,mallory\nshot1.png,ben\n", encoding="utf-8"
    )
    report = import_paths(workspace, [image_folder], metadata_csv=csv_path)
    assert report.metadata_rows_skipped == [
        "meta.csv: line 4: contradicts line 2 for 'SHOT0.jpg'; the first row is kept".replace(
            "'SHOT0.jpg'", "SHOT0.jpg"
        ),
        "meta.csv: line 5: repeats line 3 for shot1.png; the first row is kept",
    ]
    authors = _authors(workspace)
    assert authors["shot0.jpg"] == "ana" and authors["shot1.png"] == "ben"


@pytest.mark.parametrize("header", ["file,author,author", "file,Author,author ", "file,Video Link,video_link"])
def test_a_column_named_twice_refuses_the_file(workspace, image_folder, tmp_path, header):
    csv_path = tmp_path / "meta.csv"
    csv_path.write_text(f"{header}\nshot0.jpg,a,b\n", encoding="utf-8")
    with pytest.raises(MetadataError, match=r"^meta.csv: the header names column '.+' twice \(columns 2 and 3\)"):
        import_paths(workspace, [image_folder], metadata_csv=csv_path)
    assert workspace.db.execute("SELECT COUNT(*) FROM images").fetchone()[0] == 0  # refused before any import
    csv_path.write_text("file,author,,\nshot0.jpg,a,,\n", encoding="utf-8")  # unnamed columns are no repeat
    assert read_metadata_csv(csv_path) == {"shot0.jpg": {"author": "a"}}


def test_an_unclosed_quote_refuses_the_file(tmp_path):
    csv_path = tmp_path / "meta.csv"
    csv_path.write_text('file,author\nshot0.jpg,ana\nshot1.png,"ben\nshot2.webp,cleo\n', encoding="utf-8")
    with pytest.raises(MetadataError, match="a quoted cell starting after line 2 is never closed"):
        read_metadata_csv(csv_path)


def test_a_fifo_as_metadata_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "meta.csv"
    os.mkfifo(fifo)
    result: list[BaseException] = []
    reader = threading.Thread(target=lambda: result.append(pytest.raises(MetadataError, read_metadata_csv, fifo).value))
    reader.daemon = True
    reader.start()
    reader.join(60)
    if reader.is_alive():  # unblock the reader that opened the FIFO, then fail
        with open(fifo, "w"):
            pass
        pytest.fail("reading a FIFO as a metadata CSV blocked")
    assert "not a regular file" in str(result[0])


def test_a_link_out_of_the_imported_folder_is_not_followed(workspace, tmp_path):
    folder, outside = tmp_path / "shots", tmp_path / "private"
    folder.mkdir()
    outside.mkdir()
    (folder / "inside.jpg").write_bytes(make_image_bytes(seed=1))
    (outside / "secret.jpg").write_bytes(make_image_bytes(seed=2))
    (folder / "link.jpg").symlink_to(outside / "secret.jpg")
    (folder / "sub").symlink_to(outside, target_is_directory=True)
    (folder / "alias.jpg").symlink_to(folder / "inside.jpg")  # a link within the folder is fine
    report = import_paths(workspace, [folder])
    assert len(report.added) == 1 and report.duplicates == 1
    (skipped,) = report.skipped  # sub/ (a link to a folder) is not walked at all
    assert skipped[0].endswith("link.jpg") and "a link to a file outside" in skipped[1]
    assert workspace.db.execute("SELECT COUNT(*) FROM images").fetchone()[0] == 1


def test_a_newline_in_a_file_name_forges_no_log_line(workspace, tmp_path, capsys):
    folder = tmp_path / "shots"
    folder.mkdir()
    (folder / "x\nerror: forged line.jpg").write_bytes(b"not an image at all")
    (folder / "ok.jpg").write_bytes(make_image_bytes(seed=3))
    root = str(workspace.root)
    workspace.close()
    assert main(["-w", root, "library", "import", str(folder)]) == 0
    err = capsys.readouterr().err
    assert not any(line.startswith("error: forged") for line in err.splitlines()), err
    assert "x\\u000aerror: forged line.jpg" in err  # core.visible writes it as \\uXXXX
