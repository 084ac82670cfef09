"""``deepfake-dct batch`` on Beam's DirectRunner: the same records as ``detect --json`` on the same
files (bad files included), whatever the number of worker processes, the output format or where the
files are read from; and no TensorFlow in any process of the job."""

from __future__ import annotations

import glob
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("apache_beam", reason="needs Apache Beam (pip install -e '.[batch]')")

from apache_beam.io.filesystem import BeamIOError, FileMetadata, FileSystem  # noqa: E402
from PIL import Image  # noqa: E402

from deepfake_dct.apps.batch.handler import DetectorModelHandler, score_file  # noqa: E402
from deepfake_dct.cli import main  # noqa: E402
from deepfake_dct.detector import DetectorOptions  # noqa: E402
from helpers import encode, smooth_noise  # noqa: E402

TWO_WORKERS = ["--direct_num_workers", "2", "--direct_running_mode", "multi_processing"]


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """Good images of three sizes and formats in nested folders, and every kind of bad one."""
    rng = np.random.default_rng(3)
    root = tmp_path_factory.mktemp("batch") / "imgs"
    (root / "sub" / "deeper").mkdir(parents=True)
    for i in range(6):
        Image.fromarray(smooth_noise(rng, 128, 128)).save(root / f"face{i}.png")
    Image.fromarray(smooth_noise(rng, 200, 160)).save(root / "sub" / "wide.jpg", quality=90)
    Image.fromarray(smooth_noise(rng, 256, 256)).save(root / "sub" / "deeper" / "big.webp")
    (root / "sub" / "junk.jpg").write_bytes(b"\xff\xd8\xff" + b"junk" * 10)
    (root / "sub" / "empty.png").write_bytes(b"")
    (root / "tiny.png").write_bytes(encode(Image.new("RGB", (20, 20)), "PNG"))
    (root / "notes.txt").write_text("not an image")
    return root


def detect_json(items: list[str], capsys) -> tuple[int, list[dict]]:
    code = main(["detect", "--json", *items])
    return code, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def batch(items: list[str], out: Path, *extra: str) -> tuple[int, list[dict]]:
    code = main(["batch", *items, "--output", str(out / "scores"), *extra])
    return code, read_jsonl(out)


def read_jsonl(out: Path) -> list[dict]:
    return [json.loads(line) for shard in sorted(glob.glob(str(out / "scores-*.jsonl")))
            for line in Path(shard).read_text().splitlines()]


def ordered(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: json.dumps(r, sort_keys=True))


def test_records_equal_detect_json_bad_files_included(images, tmp_path, capsys):
    items = [str(images), str(images / "**" / "*.jpg"), str(tmp_path / "missing.png")]
    expected_code, expected = detect_json(items, capsys)
    code, records = batch(items, tmp_path / "out")
    assert ordered(records) == ordered(expected)
    assert code == expected_code == 1
    assert len(records) == 14 and sum("error" in r for r in records) == 5  # 11 + 2 by the glob + 1
    assert {r["model"] for r in records} == {"default.tflite"}
    assert "Scored 14 files (5 unreadable) with default.tflite" in capsys.readouterr().err


def test_paths_from_list_file_equal_detect(images, tmp_path, capsys):
    listed = [str(images / "face0.png"), str(images / "sub"), str(images / "tiny.png")]
    (tmp_path / "list.txt").write_text("\n".join(listed) + "\n\n")
    _, expected = detect_json(listed, capsys)
    code, records = batch([], tmp_path / "out", "--paths-from", str(tmp_path / "list.txt"))
    assert code == 1
    assert ordered(records) == ordered(expected)


@pytest.mark.slow
def test_two_worker_processes_give_the_same_records_as_one(images, tmp_path):
    items = [str(images)]
    _, one = batch(items, tmp_path / "one")
    _, two = batch(items, tmp_path / "two", *TWO_WORKERS)
    assert len(one) == 11
    assert ordered(two) == ordered(one)


def test_parquet_rows_are_the_records(images, tmp_path, capsys):
    import pyarrow.parquet as pq

    _, expected = detect_json([str(images)], capsys)
    code = main(["batch", str(images), "--output", str(tmp_path / "scores"), "--format", "parquet"])
    shards = sorted(tmp_path.glob("scores-*.parquet"))
    rows = [row for shard in shards for row in pq.read_table(shard).to_pylist()]
    assert code == 1
    def present(records):  # a parquet row has every column, null where a record has no such key
        return ordered([{k: v for k, v in r.items() if v is not None} for r in records])

    assert present(rows) == present(expected)


def test_threshold_and_model_options_match_detect(images, tmp_path, capsys):
    from deepfake_dct.detector import default_model_path

    model = tmp_path / "mine.tflite"
    model.write_bytes(default_model_path().read_bytes())
    options = ["--model", str(model), "--threshold", "0.2"]
    expected_code = main(["detect", "--json", *options, str(images)])
    expected = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    code, records = batch([str(images), *options], tmp_path / "out")
    assert ordered(records) == ordered(expected) and code == expected_code
    assert {r["model"] for r in records} == {"mine.tflite"}
    assert {r["threshold"] for r in records if "error" not in r} == {0.2}


def test_bad_model_or_no_images_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model")
    assert main(["batch", str(tmp_path), "--output", str(tmp_path / "o"), "--model", str(bad)]) == 2
    assert capsys.readouterr().err.startswith("ERROR: ")
    (tmp_path / "empty").mkdir()
    assert main(["batch", str(tmp_path / "empty"), "--output", str(tmp_path / "o")]) == 2
    assert "ERROR: Expected image files" in capsys.readouterr().err


class MemoryFileSystem(FileSystem):
    """An object store in this process's memory, ``memtest://bucket/key``: no folders, only keys with
    a common prefix, as on GCS or S3. Found by Beam's FileSystems through its scheme."""

    objects: dict[str, bytes] = {}

    @classmethod
    def scheme(cls):
        return "memtest"

    def join(self, base, *parts):
        return "/".join([base.rstrip("/"), *parts])

    def split(self, path):
        head, _, tail = path.rpartition("/")
        return head, tail

    def has_dirs(self):
        return False

    def _list(self, prefix):
        return [FileMetadata(k, len(v)) for k, v in self.objects.items() if k.startswith(prefix)]

    def open(self, path, mime_type="application/octet-stream", compression_type=None):
        if path not in self.objects:
            raise BeamIOError("Open operation failed", {path: FileNotFoundError(path)})
        return io.BytesIO(self.objects[path])

    def exists(self, path):
        return path in self.objects

    def size(self, path):
        return len(self.objects[path])

    def metadata(self, path):
        return FileMetadata(path, len(self.objects[path]))

    def mkdirs(self, path): raise NotImplementedError
    def create(self, *a, **k): raise NotImplementedError
    def copy(self, *a): raise NotImplementedError
    def rename(self, *a): raise NotImplementedError
    def last_updated(self, path): return 0.0
    def delete(self, paths): raise NotImplementedError


def test_uris_are_read_through_beams_file_systems(images, tmp_path, capsys):
    """A "folder" of an object store lists the keys under it that have an image extension; a glob
    is matched; bytes are read through FileSystems; errors name the URI, as detect names a path."""
    MemoryFileSystem.objects = {f"memtest://bucket/faces/{p.relative_to(images)}": p.read_bytes()
                                for p in images.rglob("*") if p.is_file()}
    code, records = batch(["memtest://bucket/faces", "memtest://bucket/faces/sub/*.jpg",
                           "memtest://bucket/nothing.png"], tmp_path / "out")
    _, local = detect_json([str(images), str(images / "sub" / "*.jpg")], capsys)
    as_uri = [{k: v.replace(str(images), "memtest://bucket/faces") if k in ("path", "error") else v
               for k, v in r.items()} for r in local]
    missing = [r for r in records if r["path"] == "memtest://bucket/nothing.png"]
    assert code == 1
    assert ordered([r for r in records if r not in missing]) == ordered(as_uri)
    assert missing[0]["error"].startswith("memtest://bucket/nothing.png: cannot read the file")


BLAS_THREADS = """
import json, numpy, threadpoolctl
def blas():
    return [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
before = blas()
from deepfake_dct.apps.batch.handler import DetectorModelHandler
DetectorModelHandler.from_file(None).load_model()
print(json.dumps({"before": before, "after": blas()}))
"""


def test_a_worker_that_loaded_numpy_first_still_runs_one_blas_thread():
    """A Beam worker imports numpy before deepfake_dct, so OPENBLAS_NUM_THREADS comes too late there:
    loading the model limits BLAS to one thread all the same."""
    pytest.importorskip("threadpoolctl")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    result = subprocess.run([sys.executable, "-c", BLAS_THREADS], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    threads = json.loads(result.stdout)
    assert threads["after"] and set(threads["after"]) == {1}, threads


def test_handler_scores_a_batch_and_ships_only_the_model_bytes(images):
    import pickle

    handler = DetectorModelHandler.from_file(None, DetectorOptions(num_threads=1))
    shipped = pickle.loads(pickle.dumps(handler))
    detector = shipped.load_model()
    paths = [str(images / "face0.png"), str(images / "tiny.png")]
    assert list(shipped.run_inference(paths, detector)) == [score_file(detector, p) for p in paths]
    assert shipped.batch_elements_kwargs()["max_batch_size"] >= 64
    assert set(vars(shipped)) >= {"_model_bytes"} and not any(
        isinstance(v, os.PathLike) for v in vars(shipped).values())


POISON_TENSORFLOW = """
import os
open(os.path.join(os.environ["POISON_LOG"], f"tensorflow-{os.getpid()}"), "w").close()
raise ImportError("tensorflow may not be imported by deepfake-dct batch")
"""
MARK_PROCESS = """
import os
open(os.path.join(os.environ["POISON_LOG"], f"process-{os.getpid()}"), "w").close()
"""


@pytest.mark.slow
def test_no_process_of_a_two_worker_job_imports_tensorflow(images, tmp_path):
    """Every Python process of the job (the launcher and the two workers) starts with a stand-in
    ``tensorflow`` on its path that logs any import of it; a sitecustomize logs each process, to show
    the stand-in reached the workers too."""
    poison, log = tmp_path / "poison", tmp_path / "log"
    (poison / "tensorflow").mkdir(parents=True)
    log.mkdir()
    (poison / "tensorflow" / "__init__.py").write_text(POISON_TENSORFLOW)
    (poison / "sitecustomize.py").write_text(MARK_PROCESS)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(poison), os.environ.get("PYTHONPATH", "")]),
           "POISON_LOG": str(log)}
    command = [sys.executable, "-m", "deepfake_dct.cli", "batch", str(images),
               "--output", str(tmp_path / "out" / "scores"), *TWO_WORKERS]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stderr
    assert len(read_jsonl(tmp_path / "out")) == 11
    processes = [p.name for p in log.iterdir() if p.name.startswith("process-")]
    assert len(processes) >= 3, processes  # the launcher and two workers at least
    assert [p.name for p in log.iterdir() if p.name.startswith("tensorflow-")] == []


def test_beam_options_are_told_from_inputs_wherever_they_stand():
    from deepfake_dct.apps.batch.cli import build_parser, split_arguments
    from deepfake_dct.apps.batch.pipeline import beam_options

    argv = ["--runner", "DirectRunner", "imgs", "--output", "o", "--save_main_session", "more",
            "--direct_num_workers=2", "--flink_conf_dir", "/etc/flink", "--threads", "2", "last"]
    mine, beam = split_arguments(argv, build_parser(), beam_options())
    assert mine == ["imgs", "--output", "o", "more", "--threads", "2", "last"]
    assert beam == ["--runner", "DirectRunner", "--save_main_session", "--direct_num_workers=2",
                    "--flink_conf_dir", "/etc/flink"]
