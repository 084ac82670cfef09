"""The dataset builder (deepfake_dct.training.dataset) on a tiny git repository made here, and the
committed manifest's form. Fast: a few small images, git and the standard library."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from deepfake_dct.training import dataset

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

SOURCE = "someone/tiny-images"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"]

# Held out as unseen: these generators may appear in test only, per committed manifest.
HELD_OUT_V1 = {"stylegan3", "stable-diffusion", "cyclegan", "cyclegan-input", "lfw"}
HELD_OUT = {"native_v1.csv.gz": HELD_OUT_V1, "native_v2.csv.gz": HELD_OUT_V1 | {"celeba-hq"},
            "native_v3.csv.gz": HELD_OUT_V1 - {"lfw"} | {"celeba-hq"}, "native_v4.csv.gz": HELD_OUT_V1 - {"lfw"} | {"celeba-hq"},
            "native_v5.csv.gz": HELD_OUT_V1 - {"lfw"} | {"celeba-hq", "web-photo"}}
#: The project's independent evaluation sets are named in shared/DATA-SOURCES.md, under "Reserved";
#: they are read from there, not written down again in this repository.
DATA_SOURCES = Path(__file__).resolve().parents[1].parent / "shared" / "DATA-SOURCES.md"


@pytest.fixture(scope="module")
def reserved() -> set[str]:
    """owner/name of every reserved source, lowercased (skips where shared/ is absent)."""
    if not DATA_SOURCES.is_file():
        pytest.skip(f"needs {DATA_SOURCES} (the shared data notes) to know the reserved sources")
    text = DATA_SOURCES.read_text(encoding="utf-8")
    section = text[text.index("## Reserved"):]  # the last section of that page
    names = {m.lower() for m in re.findall(r"\b[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]", section)
             if not m.endswith((".md", ".csv"))}
    assert len(names) >= 9, names
    return names


def _image(fmt: str, seed: int) -> bytes:
    im = Image.new("RGB", (16, 12), (seed * 40 % 256, 90, 200 - seed * 30))
    im.putpixel((seed, seed), (255, 255, 255))
    buf = io.BytesIO()
    im.save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


# path in the repo -> (label, generator, split); two share a basename, one has a space, one is not ASCII
FILES = {
    "real/a.png": ("real", "photo", "train"),
    "fake/b.jpg": ("fake", "stylegan2", "train"),
    "more/deep/a.png": ("real", "photo", "train"),
    "fake/ñame with space.jpg": ("fake", "stylegan2", "test"),
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> dict:
    """A repository at mirrors/someone+tiny-images/repo (with a work tree, .git inside, as fetch
    leaves some), its commit, and each file's bytes."""
    root = tmp_path_factory.mktemp("mirrors")
    work = root / "someone+tiny-images" / "repo"
    work.mkdir(parents=True)
    contents = {}
    for i, path in enumerate(FILES):
        data = _image("PNG" if path.endswith(".png") else "JPEG", i)
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_bytes(data)
        contents[path] = data
    subprocess.run([*GIT, "init", "-q", str(work)], check=True)
    subprocess.run([*GIT, "-C", str(work), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(work), "commit", "-q", "-m", "images"], check=True)
    commit = subprocess.run([*GIT, "-C", str(work), "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    return {"mirrors": root, "work": work, "commit": commit, "contents": contents}


def _rows(repo: dict) -> list[dict]:
    rows = []
    for path, (label, generator, split) in FILES.items():
        data = repo["contents"][path]
        rows.append(
            {
                "source": SOURCE,
                "commit": repo["commit"],
                "path": path,
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
                "licence": "test images",
                "label": label,
                "generator": generator,
                "kind": "scene",
                "split": split,
            }
        )
    return rows


def _manifest(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "manifest.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=dataset.COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def _tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_build_writes_each_file_unchanged_into_its_folder(repo, tmp_path):
    out = tmp_path / "out"
    report = dataset.build_dataset(_manifest(tmp_path, _rows(repo)), repo["mirrors"], out)
    c = repo["contents"]
    slug = "someone-tiny-images"
    assert _tree(out) == {
        # a.png twice in the same folder: both take their whole path
        f"train/real/photo/{slug}__real__a.png": c["real/a.png"],
        f"train/real/photo/{slug}__more__deep__a.png": c["more/deep/a.png"],
        f"train/fake/stylegan2/{slug}__b.jpg": c["fake/b.jpg"],
        f"test/fake/stylegan2/{slug}__ñame with space.jpg": c["fake/ñame with space.jpg"],
        "manifest_used.csv": (out / "manifest_used.csv").read_bytes(),
    }
    assert (report.rows, report.written, report.already_present, report.rewritten) == (4, 4, 0, 0)
    assert report.bytes_total == sum(len(v) for v in c.values())
    assert report.count(split="train") == 3 and report.count(label="fake") == 2 and report.count("test", "fake", "stylegan2") == 1
    used = list(csv.DictReader(open(out / "manifest_used.csv", encoding="utf-8")))
    assert [u["path"] for u in used] == list(FILES)
    assert all((out / u["file"]).read_bytes() == c[u["path"]] for u in used)
    assert "4 files" in report.summary()


def test_second_run_rewrites_nothing_and_a_wrong_file_is_replaced(repo, tmp_path):
    manifest, out = _manifest(tmp_path, _rows(repo)), tmp_path / "out"
    dataset.build_dataset(manifest, repo["mirrors"], out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.*g")}
    again = dataset.build_dataset(manifest, repo["mirrors"], out)
    assert (again.written, again.already_present) == (0, 4)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.*g")} == stamps

    victim = out / "train/fake/stylegan2/someone-tiny-images__b.jpg"
    victim.write_bytes(b"not the image")
    third = dataset.build_dataset(manifest, repo["mirrors"], out)
    assert (third.written, third.rewritten, third.already_present) == (1, 1, 3)
    assert victim.read_bytes() == repo["contents"]["fake/b.jpg"]


def test_files_already_in_place_need_no_mirror(repo, tmp_path):
    manifest, out = _manifest(tmp_path, _rows(repo)), tmp_path / "out"
    dataset.build_dataset(manifest, repo["mirrors"], out)
    report = dataset.build_dataset(manifest, tmp_path / "no-mirrors-here", out)
    assert (report.written, report.already_present) == (0, 4)


def _one_problem(manifest: Path, mirrors: Path, out: Path) -> str:
    with pytest.raises(dataset.DatasetBuildError) as info:
        dataset.build_dataset(manifest, mirrors, out)
    assert len(info.value.problems) == 1, info.value.problems
    assert info.value.problems[0] in str(info.value)
    assert not (out / "manifest_used.csv").exists()
    return info.value.problems[0]


def test_a_wrong_sha256_is_one_clear_error_and_the_rest_is_written(repo, tmp_path):
    rows = _rows(repo)
    rows[1]["sha256"] = "0" * 64
    out = tmp_path / "out"
    problem = _one_problem(_manifest(tmp_path, rows), repo["mirrors"], out)
    assert "sha256 mismatch" in problem and "fake/b.jpg" in problem and SOURCE in problem
    assert len(list(out.rglob("*.*g"))) == 3 and not list(out.rglob("*b.jpg"))


def test_a_path_not_at_the_commit_is_one_clear_error(repo, tmp_path):
    rows = _rows(repo)
    rows[0]["path"] = "real/gone.png"
    problem = _one_problem(_manifest(tmp_path, rows), repo["mirrors"], tmp_path / "out")
    assert "not at the commit" in problem and "real/gone.png" in problem and repo["commit"][:12] in problem


def test_a_commit_the_mirror_lacks_is_one_clear_error(repo, tmp_path):
    rows = _rows(repo)[:2]
    for r in rows:
        r["commit"] = "1234567890" * 4
    problem = _one_problem(_manifest(tmp_path, rows), repo["mirrors"], tmp_path / "out")
    assert "1234567890" * 4 in problem and "2 file(s)" in problem


def test_a_missing_mirror_is_one_clear_error(repo, tmp_path):
    rows = _rows(repo)
    rows[2]["source"] = "nobody/absent-repo"
    problem = _one_problem(_manifest(tmp_path, rows), repo["mirrors"], tmp_path / "out")
    assert "nobody/absent-repo" in problem and "nobody+absent-repo" in problem


def test_many_problems_are_all_collected_and_the_message_names_the_first_twenty(repo, tmp_path):
    rows = []
    for i in range(25):
        r = dict(_rows(repo)[0], path=f"nothing/{i:02d}.png", sha256=f"{i:064x}")
        rows.append(r)
    with pytest.raises(dataset.DatasetBuildError) as info:
        dataset.build_dataset(_manifest(tmp_path, rows), repo["mirrors"], tmp_path / "out")
    assert len(info.value.problems) == 25
    message = str(info.value)
    assert "nothing/19.png" in message and "nothing/20.png" not in message and "and 5 more" in message


def test_bad_manifest_rows_are_reported(repo, tmp_path):
    rows = _rows(repo)
    rows[0]["label"] = "maybe"
    rows[2]["sha256"] = rows[1]["sha256"]
    rows[3]["path"] = "../escape.jpg"
    with pytest.raises(dataset.DatasetBuildError) as info:
        dataset.build_dataset(_manifest(tmp_path, rows), repo["mirrors"], tmp_path / "out")
    text = str(info.value)
    assert len(info.value.problems) == 3 and "'maybe'" in text and "listed already" in text and "../escape.jpg" in text
    assert not (tmp_path / "escape.jpg").exists()


def test_bare_mirrors_and_plain_clones_are_found(repo, tmp_path):
    bare = tmp_path / "bare"
    subprocess.run([*GIT, "clone", "-q", "--bare", str(repo["work"]), str(bare / "someone+tiny-images" / "repo")], check=True)
    clone = tmp_path / "clones"
    subprocess.run([*GIT, "clone", "-q", str(repo["work"]), str(clone / "someone" / "tiny-images")], check=True)
    manifest = _manifest(tmp_path, _rows(repo))
    for mirrors in (bare, clone):
        assert dataset.build_dataset(manifest, mirrors, tmp_path / mirrors.name).written == 4


def test_main_exits_0_when_complete_and_2_on_any_problem(repo, tmp_path, capsys):
    manifest, out = _manifest(tmp_path, _rows(repo)), tmp_path / "out"
    assert dataset.main(["build", "--manifest", str(manifest), "--mirrors", str(repo["mirrors"]), "--out", str(out), "--quiet"]) == 0
    assert "4 files" in capsys.readouterr().out
    missing = tmp_path / "nothing"
    assert dataset.main(["build", "--manifest", str(manifest), "--mirrors", str(missing), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert "no mirror of someone/tiny-images" in err
    assert dataset.main(["build", "--manifest", str(tmp_path / "absent.csv"), "--mirrors", str(missing), "--out", str(out)]) == 2


def test_add_lists_a_sources_matching_files_with_their_sha256_and_skips_bytes_listed_already(repo, tmp_path, capsys):
    base = _manifest(tmp_path, [r for r in _rows(repo) if r["path"] == "real/a.png"])
    out = tmp_path / "more.csv.gz"
    args = ["add", "--manifest", str(base), "--out", str(out), "--mirrors", str(repo["mirrors"]), "--source", SOURCE,
            "--commit", repo["commit"], "--paths", "fake/*.jpg", "real/*", "--label", "fake", "--generator", "gen-x",
            "--kind", "face", "--licence", "test images"]
    assert dataset.main(args) == 0
    printed = capsys.readouterr().out
    assert "left out: real/a.png: the same bytes as someone/tiny-images@" in printed and "added 2 row(s)" in printed
    rows, problems = dataset.read_manifest(out)
    assert problems == [] and [r.path for r in rows] == ["real/a.png", "fake/b.jpg", "fake/ñame with space.jpg"]
    for r in rows[1:]:
        assert r.sha256 == hashlib.sha256(repo["contents"][r.path]).hexdigest() and r.bytes == len(repo["contents"][r.path])
        assert (r.label, r.generator, r.kind) == ("fake", "gen-x", "face")
    assert sorted(r.split for r in rows[1:]) == ["test", "train"]  # round(0.7 x 2) = 1 train, round(0.3) = 0 val
    built = tmp_path / "built"
    assert dataset.main(["build", "--manifest", str(out), "--mirrors", str(repo["mirrors"]), "--out", str(built), "--quiet"]) == 0
    assert dataset.main([*args[:-2], "--licence", "x", "--split", "test", "--paths", "nothing/*"]) == 2
    assert "no file of someone/tiny-images@" in capsys.readouterr().err
    assert dataset.main([*args, "--generator", "Gen X", "--commit", "HEAD"]) == 2
    err = capsys.readouterr().err
    assert "commit 'HEAD' is not 40 lowercase hex" in err and "generator 'Gen X' is not a lowercase name" in err


def test_splits_follow_sha256_order_seventy_fifteen_fifteen():
    shas = [f"{i:064x}" for i in range(20)][::-1]
    splits = dataset.assign_splits(shas, (0.7, 0.15))
    assert [splits[f"{i:064x}"] for i in range(20)] == ["train"] * 14 + ["val"] * 3 + ["test"] * 3


def test_help_shows_the_default_manifest(capsys):
    with pytest.raises(SystemExit) as info:
        dataset.main(["build", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "native_v1.csv" in text and "--mirrors" in text and "--out" in text


# ---- the committed manifest ----


@pytest.fixture(scope="module", params=sorted(HELD_OUT))
def committed(request) -> tuple[Path, list[dict]]:
    path = dataset.default_manifest().with_name(request.param)
    assert path.is_file(), path
    with dataset.open_manifest(path) as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == dataset.COLUMNS
        return path, list(reader)


def test_the_default_manifest_is_a_committed_one():
    assert dataset.default_manifest().name in HELD_OUT and dataset.default_manifest().is_file()


def test_committed_manifest_is_well_formed(committed):
    path, committed = committed
    rows, problems = dataset.read_manifest(path)
    assert problems == [] and len(rows) == len(committed) > 1000
    for r in committed:
        assert re.fullmatch(r"[0-9a-f]{40}", r["commit"]), r
        assert re.fullmatch(r"[0-9a-f]{64}", r["sha256"]), r
        assert r["label"] in ("real", "fake") and r["split"] in ("train", "val", "test"), r
        assert int(r["bytes"]) > 0 and r["licence"] and r["kind"] in ("face", "scene"), r
    assert len({r["sha256"] for r in committed}) == len(committed)
    assert len({(r["source"], r["commit"], r["path"]) for r in committed}) == len(committed)
    assert len(set(dataset.destinations(rows).values())) == len(rows)


def test_committed_manifest_holds_no_reserved_source(committed, reserved):
    committed = committed[1]
    assert not {r["source"].lower() for r in committed} & reserved


def test_held_out_generators_appear_only_in_test(committed):
    path, committed = committed
    held_out = HELD_OUT[path.name]
    seen = {r["generator"] for r in committed}
    assert held_out <= seen
    assert {r["split"] for r in committed if r["generator"] in held_out} == {"test"}
    for split in ("train", "val", "test"):
        assert {r["label"] for r in committed if r["split"] == split and r["generator"] not in held_out} == {"real", "fake"}


def _committed_rows(name: str) -> list:
    return dataset.read_manifest(dataset.default_manifest().with_name(name))[0]


def test_native_v2_is_native_v1_with_sources_added():
    v1, v2 = _committed_rows("native_v1.csv.gz"), _committed_rows("native_v2.csv.gz")
    assert v2[:len(v1)] == v1 and {r.source for r in v2[len(v1):]} == {"gebaltso/SDFD", "clovaai/stargan-v2"}


def test_native_v5_is_native_v3_with_web_photos_for_test_only():
    v3, v5 = _committed_rows("native_v3.csv.gz"), _committed_rows("native_v5.csv.gz")
    added = v5[len(v3):]
    assert v5[:len(v3)] == v3 and len(added) == 64
    assert {(r.source, r.label, r.generator, r.split) for r in added} == {("serengil/deepface", "real", "web-photo", "test")}


@pytest.mark.parametrize("name, shares, counts", [("native_v3.csv.gz", ("0.15", "0.05"), "907 train, 302 val, 4836 test"),
                                                   ("native_v4.csv.gz", ("0", "0.05"), "0 train, 302 val, 5743 test")])
def test_native_v3_and_v4_are_native_v2_with_lfw_split_again(name, shares, counts, tmp_path, capsys):
    v2 = _committed_rows("native_v2.csv.gz")
    out = tmp_path / name
    args = ["resplit", "--manifest", str(dataset.default_manifest().with_name("native_v2.csv.gz")),
            "--out", str(out), "--generator", "lfw", "--shares", *shares]
    assert dataset.main(args) == 0
    assert f"lfw: {counts}" in capsys.readouterr().out
    assert out.read_bytes() == dataset.default_manifest().with_name(name).read_bytes()
    v3 = _committed_rows(name)
    assert [dataclasses.replace(r, split="-") for r in v3] == [dataclasses.replace(r, split="-") for r in v2]
    assert all(a.split == b.split for a, b in zip(v2, v3) if a.generator != "lfw")


def test_resplit_splits_one_generator_per_source_and_label_and_refuses_what_it_cannot_do(repo, tmp_path, capsys):
    base = _manifest(tmp_path, _rows(repo))
    out = tmp_path / "re.csv"
    counts = dataset.resplit_generator(base, out, generator="stylegan2", shares=(0.5, 0.0))
    rows = dataset.read_manifest(out)[0]
    assert counts == {"train": 1, "test": 1} and [r.split for r in rows if r.generator == "photo"] == ["train", "train"]
    shas = sorted(r.sha256 for r in rows if r.generator == "stylegan2")
    assert [next(r.split for r in rows if r.sha256 == sha) for sha in shas] == ["train", "test"]
    for generator, shares, message in (("nope", (0.5, 0.0), "lists no rows of generator 'nope'"),
                                       ("photo", (0.8, 0.2), "must be >= 0 and leave some for test")):
        assert dataset.main(["resplit", "--manifest", str(base), "--out", str(out), "--generator", generator,
                             "--shares", *map(str, shares)]) == 2
        assert message in capsys.readouterr().err
