"""Assemble the native-resolution image dataset from local git mirrors, as a manifest lists it.

The manifest (default: the committed ``manifests/native_v1.csv.gz`` next to this module (a
gzip-compressed CSV; any manifest may be plain ``.csv`` or ``.csv.gz``)) names every
image by public repository, commit and path, with its sha256 and its split, label and generator.
No image is copied into this repository: this builder reads each file out of a local copy of its
repository with ``git cat-file --batch`` (one process per source), checks its sha256, and writes it
unchanged to::

    OUT/<split>/<label>/<generator>/<source-slug>__<basename>

``<source-slug>`` is the ``owner/name`` lowercased with every run of other characters made ``-``
(``xrv0/whichfaceisreal`` -> ``xrv0-whichfaceisreal``). When two rows would land on the same name
(compared case-insensitively), both use their whole path instead of the basename, ``/`` made
``__`` (``jbhuang0604-selfexsr__data__Set5__image_SRF_2__img_001_SRF_2_HR.png``); should that
still clash (one path at two commits), the first 8 hex digits of the sha256 go before the extension.

A mirror folder holds one git directory per source, found by trying, in order:
``MIRRORS/owner+name`` (what the fetch tool makes: the git dir is ``repo/``, ``repo/.git`` or any
other git dir one level down), ``MIRRORS/owner/name`` (a normal clone, ``.git`` inside, or bare)
and ``MIRRORS/owner+name.git`` / ``MIRRORS/owner/name.git`` (bare).

Re-runnable: a file already in place with the right sha256 is left alone (its mirror is not even
needed); a wrong one is rewritten. Every problem (a source without a mirror, a commit or path the
mirror lacks, a sha256 or size that does not match, a malformed row) is collected, and the build
ends with one :class:`DatasetBuildError` naming them; the good files are still written. On
success ``OUT/manifest_used.csv`` lists the rows in the dataset with the file each became.

Standard library only (no numpy, no TensorFlow, no Pillow): ``python -m deepfake_dct.training.dataset
build --mirrors DIR --out DIR`` or, from the umbrella command, ``deepfake-dct dataset build``.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import gzip
import hashlib
import io
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Sequence

COLUMNS = ("source", "commit", "path", "sha256", "bytes", "licence", "label", "generator", "kind", "split")
#: "other": images outside what the detector is for (drawings, screenshots, text, charts), a test set
#: for the out-of-scope check; training never reads them (it reads real/ and fake/ only).
LABELS = ("real", "fake", "other")
SPLITS = ("train", "val", "test")
USED_NAME = "manifest_used.csv"
MAX_LISTED = 20  # problems named in the error message; the rest are counted

_HEX40 = re.compile(r"[0-9a-f]{40}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SOURCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.][A-Za-z0-9_.-]*")
_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*")  # label, generator, kind, split: they become folder names


def default_manifest() -> Path:
    """The committed manifest shipped with this package (``manifests/native_v1.csv.gz``)."""
    try:
        from importlib.resources import files

        candidate = Path(str(files(__package__ or "deepfake_dct.training") / "manifests" / "native_v1.csv.gz"))
        if candidate.is_file():
            return candidate
    except Exception:  # not importable as a package (run as a loose file): fall back to the folder
        pass
    return Path(__file__).resolve().parent / "manifests" / "native_v1.csv.gz"


def open_manifest(manifest: Path) -> IO[str]:
    """A manifest's text, gunzipped when its name ends in ``.gz`` (the committed one is: as plain
    CSV it would be 2.4 MB, mostly the licence repeated on every row)."""
    if str(manifest).endswith(".gz"):
        return gzip.open(manifest, "rt", newline="", encoding="utf-8")
    return open(manifest, newline="", encoding="utf-8")


class DatasetBuildError(RuntimeError):
    """Everything that kept the build from being complete, collected; ``problems`` lists them all."""

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:MAX_LISTED])
        more = len(self.problems) - MAX_LISTED
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{len(self.problems)} problem(s) building the dataset:\n{shown}{tail}")


@dataclass(frozen=True)
class Row:
    """One manifest row: an image file at a commit of a public repository."""

    source: str
    commit: str
    path: str
    sha256: str
    bytes: int
    licence: str
    label: str
    generator: str
    kind: str
    split: str

    @property
    def slug(self) -> str:
        return source_slug(self.source)

    @property
    def where(self) -> str:
        return f"{self.source}@{self.commit[:12]}:{self.path}"


@dataclass(frozen=True)
class BuildReport:
    """What a build did. ``counts`` is ((split, label, generator), files) for every row in the dataset."""

    out: Path
    rows: int
    written: int
    rewritten: int
    already_present: int
    bytes_total: int
    bytes_written: int
    seconds: float
    counts: tuple[tuple[tuple[str, str, str], int], ...]

    def count(self, split: str | None = None, label: str | None = None, generator: str | None = None) -> int:
        """Files matching whichever of split, label and generator are given."""
        return sum(
            n
            for (s, lab, g), n in self.counts
            if (split is None or s == split) and (label is None or lab == label) and (generator is None or g == generator)
        )

    def summary(self) -> str:
        lines = [
            f"{self.rows} files in {self.out} ({self.bytes_total / 2**20:.1f} MiB): "
            f"{self.written} written ({self.rewritten} of them replaced a wrong file), "
            f"{self.already_present} already present; {self.seconds:.1f} s",
            f"{'split':<6} {'label':<5} {'generator':<17} {'files':>6}",
        ]
        lines += [f"{s:<6} {lab:<5} {g:<17} {n:>6}" for (s, lab, g), n in self.counts]
        return "\n".join(lines)


def source_slug(source: str) -> str:
    """``owner/name`` as a file-name prefix: lowercased, every run of other characters ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", source.lower()).strip("-")


def read_manifest(manifest: Path) -> tuple[list[Row], list[str]]:
    """The manifest's rows and the problems found in it (bad columns, values, duplicates)."""
    problems: list[str] = []
    rows: list[Row] = []
    try:
        handle = open_manifest(manifest)
    except OSError as e:
        return [], [f"manifest {manifest} cannot be read: {e.strerror or e}"]
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            return [], [f"manifest {manifest} lacks column(s) {', '.join(missing)}"]
        seen_sha: dict[str, str] = {}
        for n, raw in enumerate(reader, start=2):
            where = f"manifest line {n}"
            values = {c: (raw.get(c) or "").strip() for c in COLUMNS}
            bad = []
            if not _SOURCE.fullmatch(values["source"]):
                bad.append(f"source {values['source']!r} is not owner/name")
            if not _HEX40.fullmatch(values["commit"]):
                bad.append(f"commit {values['commit']!r} is not 40 lowercase hex")
            path = values["path"]
            if not path or path.startswith("/") or "\\" in path or "\n" in path or any(p in ("", ".", "..") for p in path.split("/")):
                bad.append(f"path {path!r} is not a plain relative path")
            if not _HEX64.fullmatch(values["sha256"]):
                bad.append(f"sha256 {values['sha256']!r} is not 64 lowercase hex")
            if not values["bytes"].isdigit():
                bad.append(f"bytes {values['bytes']!r} is not a whole number")
            if values["label"] not in LABELS:
                bad.append(f"label {values['label']!r} is not one of {'/'.join(LABELS)}")
            if values["split"] not in SPLITS:
                bad.append(f"split {values['split']!r} is not one of {'/'.join(SPLITS)}")
            for col in ("generator", "kind"):
                if not _NAME.fullmatch(values[col]):
                    bad.append(f"{col} {values[col]!r} is not a lowercase name")
            if bad:
                problems.append(f"{where}: " + "; ".join(bad))
                continue
            row = Row(**{**values, "bytes": int(values["bytes"])})
            if row.sha256 in seen_sha:
                problems.append(f"{where}: sha256 {row.sha256[:16]}... of {row.where} is listed already ({seen_sha[row.sha256]})")
                continue
            seen_sha[row.sha256] = row.where
            rows.append(row)
    return rows, problems


def destinations(rows: Iterable[Row]) -> dict[Row, str]:
    """Each row's file under OUT, relative, '/'-separated (see the module's docstring for the rule)."""
    rows = list(rows)

    def folder(r: Row) -> str:
        return f"{r.split}/{r.label}/{r.generator}"

    def unique(names: dict[Row, str], fallback) -> dict[Row, str]:
        clashes = Counter(name.lower() for name in names.values())
        return {r: (name if clashes[name.lower()] == 1 else fallback(r)) for r, name in names.items()}

    def with_sha(r: Row) -> str:  # the same path at two commits: tell them apart by content
        stem, dot, ext = r.path.replace("/", "__").rpartition(".")
        return f"{folder(r)}/{r.slug}__{stem}__{r.sha256[:8]}.{ext}" if dot else f"{folder(r)}/{r.slug}__{ext}__{r.sha256[:8]}"

    short = {r: f"{folder(r)}/{r.slug}__{r.path.rsplit('/', 1)[-1]}" for r in rows}
    full = unique(short, lambda r: f"{folder(r)}/{r.slug}__{r.path.replace('/', '__')}")
    return unique(full, with_sha)


def _is_git_dir(p: Path) -> bool:
    return p.is_dir() and (p / "HEAD").is_file() and (p / "objects").is_dir()


def find_git_dir(mirrors: Path, source: str) -> Path | None:
    """The git directory holding ``source`` (owner/name) under ``mirrors``, or None."""
    owner, name = source.split("/", 1)
    for base in (mirrors / f"{owner}+{name}", mirrors / owner / name, mirrors / f"{owner}+{name}.git", mirrors / owner / f"{name}.git"):
        if not base.is_dir():
            continue
        for candidate in (base / ".git", base, base / "repo" / ".git", base / "repo"):
            if _is_git_dir(candidate):
                return candidate
        for child in sorted(base.iterdir()):
            for candidate in (child / ".git", child):
                if _is_git_dir(candidate):
                    return candidate
    return None


class _Blobs:
    """One ``git cat-file --batch`` process: ask for an object by name, get its type and bytes."""

    def __init__(self, git_dir: Path):
        self._proc = subprocess.Popen(
            ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def get(self, name: str) -> tuple[str, bytes] | None:
        """(type, content) of the object ``name`` (e.g. ``commit:path``), or None when absent."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(name.encode("utf-8") + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline()
        if not header:
            raise RuntimeError("git cat-file stopped answering")
        parts = header.split()
        if len(parts) != 3:  # "<name> missing" or "<name> ambiguous"
            return None
        size = int(parts[2])
        data = _read_exactly(self._proc.stdout, size)
        self._proc.stdout.read(1)  # the newline after the content
        return parts[1].decode(), data

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        if self._proc.stdout:
            self._proc.stdout.close()
        self._proc.wait()

    def __enter__(self) -> "_Blobs":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise RuntimeError("git cat-file ended in the middle of an object")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _sha256_file(path: Path) -> str | None:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def build_dataset(manifest: Path, mirrors: Path, out: Path, *, progress: IO[str] | None = None) -> BuildReport:
    """Write every manifest row's file under ``out`` from the git mirrors under ``mirrors``.

    Raises :class:`DatasetBuildError` naming every problem once all the rows were tried."""
    started = time.monotonic()
    manifest, mirrors, out = Path(manifest), Path(mirrors), Path(out)
    rows, problems = read_manifest(manifest)
    dest = destinations(rows)
    (out / USED_NAME).unlink(missing_ok=True)  # only a complete build leaves one

    todo: dict[str, list[Row]] = defaultdict(list)
    rewrite: set[Row] = set()
    present = 0
    for r in rows:
        target = out / dest[r]
        if target.is_file():
            if target.stat().st_size == r.bytes and _sha256_file(target) == r.sha256:
                present += 1
                continue
            rewrite.add(r)
        todo[r.source].append(r)

    written = rewritten = bytes_written = 0
    failed: set[Row] = set()
    for source in sorted(todo):
        wanted = todo[source]
        git_dir = find_git_dir(mirrors, source)
        if git_dir is None:
            owner, name = source.split("/", 1)
            problems.append(
                f"no mirror of {source} under {mirrors} (looked for {owner}+{name}/ and {owner}/{name}/): "
                f"{len(wanted)} file(s) not written"
            )
            failed.update(wanted)
            continue
        if progress:
            print(f"{source}: {len(wanted)} file(s) from {git_dir}", file=progress, flush=True)
        try:
            blobs = _Blobs(git_dir)
        except OSError as e:
            problems.append(f"cannot run git for {source}: {e}")
            failed.update(wanted)
            continue
        with blobs:
            commits: dict[str, bool] = {}
            for r in wanted:
                if r.commit not in commits:
                    got = blobs.get(r.commit)
                    commits[r.commit] = got is not None and got[0] == "commit"
                    if not commits[r.commit]:
                        n = sum(1 for x in wanted if x.commit == r.commit)
                        problems.append(f"commit {r.commit} is not in the mirror of {source} ({git_dir}): {n} file(s) not written")
                if not commits[r.commit]:
                    failed.add(r)
                    continue
                got = blobs.get(f"{r.commit}:{r.path}")
                if got is None or got[0] != "blob":
                    problems.append(f"path not at the commit: {r.where}")
                    failed.add(r)
                    continue
                data = got[1]
                sha = hashlib.sha256(data).hexdigest()
                if sha != r.sha256 or len(data) != r.bytes:
                    problems.append(
                        f"sha256 mismatch: {r.where} has sha256 {sha[:16]}... ({len(data)} bytes), "
                        f"the manifest says {r.sha256[:16]}... ({r.bytes} bytes)"
                    )
                    failed.add(r)
                    continue
                try:
                    _write_atomically(out / dest[r], data)
                except OSError as e:
                    problems.append(f"cannot write {out / dest[r]}: {e.strerror or e}")
                    failed.add(r)
                    continue
                written += 1
                rewritten += r in rewrite
                bytes_written += len(data)

    if problems:
        raise DatasetBuildError(problems)

    ok = [r for r in rows if r not in failed]
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{USED_NAME}.part"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow((*COLUMNS, "file"))
        for r in ok:
            w.writerow((*(getattr(r, c) for c in COLUMNS), dest[r]))
    os.replace(tmp, out / USED_NAME)

    counts = Counter((r.split, r.label, r.generator) for r in ok)
    order = {s: i for i, s in enumerate(SPLITS)}
    return BuildReport(
        out=out,
        rows=len(ok),
        written=written,
        rewritten=rewritten,
        already_present=present,
        bytes_total=sum(r.bytes for r in ok),
        bytes_written=bytes_written,
        seconds=time.monotonic() - started,
        counts=tuple(sorted(counts.items(), key=lambda kv: (order[kv[0][0]], kv[0][1], kv[0][2]))),
    )


def assign_splits(sha256s: Sequence[str], shares: tuple[float, float]) -> dict[str, str]:
    """The manifest's split rule for one (source, label, generator): files in sha256 order, the
    first ``round(train x n)`` ``train``, the next ``round(val x n)`` ``val``, the rest ``test``."""
    order = sorted(sha256s)
    n_train, n_val = round(shares[0] * len(order)), round(shares[1] * len(order))
    return {sha: "train" if i < n_train else "val" if i < n_train + n_val else "test" for i, sha in enumerate(order)}


def add_source(manifest: Path, out: Path, mirrors: Path, *, source: str, commit: str, patterns: Sequence[str],
               label: str, generator: str, kind: str, licence: str, split: str | None = None,
               shares: tuple[float, float] = (0.7, 0.15)) -> tuple[int, list[str]]:
    """Writes ``out``: ``manifest``'s rows, then one row per file of ``source`` at ``commit`` whose
    path matches a glob of ``patterns`` (sizes and sha256 read from the mirror), in ``split`` or, when
    None, split by :func:`assign_splits`. Files whose bytes the manifest lists already are left out
    (rule 4 of the manifest's README). Returns (rows added, what was left out and why).

    Raises :class:`DatasetBuildError` when the manifest, mirror, commit or patterns cannot be used."""
    import fnmatch

    bad = [f"{what} {value!r} is not {form}" for what, value, pattern, form in (
        ("source", source, _SOURCE, "owner/name"), ("commit", commit, _HEX40, "40 lowercase hex"),
        ("generator", generator, _NAME, "a lowercase name"), ("kind", kind, _NAME, "a lowercase name"))
        if not pattern.fullmatch(value)]
    bad += [f"{what} {value!r} is not one of {'/'.join(allowed)}" for what, value, allowed in (
        ("label", label, LABELS), ("split", split or "train", SPLITS)) if value not in allowed]
    if bad:
        raise DatasetBuildError(bad)
    rows = _usable_rows(Path(manifest))
    git_dir = find_git_dir(Path(mirrors), source)
    if git_dir is None:
        raise DatasetBuildError([f"no git mirror of {source} under {mirrors}"])
    listing = subprocess.run(["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-z", "--full-tree", commit],
                             capture_output=True, text=True, encoding="utf-8")
    if listing.returncode != 0:
        raise DatasetBuildError([f"{source} has no commit {commit} in {git_dir}: {listing.stderr.strip()}"])
    entries = [entry.split("\t", 1) for entry in listing.stdout.split("\0") if entry]
    paths = sorted(path for meta, path in entries
                   if meta.split()[1] == "blob" and any(fnmatch.fnmatchcase(path, g) for g in patterns))
    if not paths:
        raise DatasetBuildError([f"no file of {source}@{commit[:12]} matches {' '.join(patterns)}"])
    listed = {r.sha256: r.where for r in rows}
    found: dict[str, tuple[str, int]] = {}
    left_out = []
    with _Blobs(git_dir) as blobs:
        for path in paths:
            blob = blobs.get(f"{commit}:{path}")
            if blob is None:  # a file the snapshot holds only as a name (too large to fetch)
                left_out.append(f"{path}: not in the mirror")
                continue
            sha = hashlib.sha256(blob[1]).hexdigest()
            if sha in listed or sha in found:
                left_out.append(f"{path}: the same bytes as {listed.get(sha) or found[sha][0]}")
                continue
            found[sha] = (path, len(blob[1]))
    splits = assign_splits(list(found), shares) if split is None else dict.fromkeys(found, split)
    new = [Row(source, commit, path, sha, size, licence, label, generator, kind, splits[sha])
           for sha, (path, size) in found.items()]
    _write_manifest(Path(out), rows + new)
    return len(new), left_out


def resplit_generator(manifest: Path, out: Path, *, generator: str, shares: tuple[float, float]) -> Counter:
    """Writes ``out``: ``manifest``'s rows with those of ``generator`` split again by
    :func:`assign_splits` at ``shares`` (per source and label, as the manifest's rule splits). For
    moving part of a source kept for testing into training and validation: the decision is then
    in the new manifest, made before training. Returns the rows of ``generator`` per split.

    Raises :class:`DatasetBuildError` when the manifest cannot be used, lists no such generator, or
    the shares do not leave a test split."""
    if not (0.0 <= shares[0] and 0.0 <= shares[1] and shares[0] + shares[1] < 1.0):
        raise DatasetBuildError([f"train and val shares {shares[0]} and {shares[1]} must be >= 0 and leave some for test"])
    rows = _usable_rows(Path(manifest))
    groups: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        if r.generator == generator:
            groups.setdefault((r.source, r.label), []).append(r.sha256)
    if not groups:
        raise DatasetBuildError([f"{manifest} lists no rows of generator {generator!r}"])
    splits = {sha: split for shas in groups.values() for sha, split in assign_splits(shas, shares).items()}
    rows = [dataclasses.replace(r, split=splits[r.sha256]) if r.generator == generator else r for r in rows]
    _write_manifest(Path(out), rows)
    return Counter(r.split for r in rows if r.generator == generator)


def _usable_rows(manifest: Path) -> list[Row]:
    """The manifest's rows, or :class:`DatasetBuildError` naming its problems: a manifest to start
    a new one from must have none (``build`` instead reads what it can and reports the rest)."""
    rows, problems = read_manifest(manifest)
    if problems:
        raise DatasetBuildError([f"{manifest}: {x}" for x in problems])
    return rows


def _write_manifest(out: Path, rows: Sequence[Row]) -> None:
    """``rows`` as a manifest at ``out`` (gzip without a timestamp for .gz: the same rows give the
    same bytes), then read back: a problem in it is an error, not a manifest left for build."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([getattr(r, c) for c in COLUMNS])
    data = text.getvalue().encode("utf-8")
    _write_atomically(out, gzip.compress(data, mtime=0) if str(out).endswith(".gz") else data)
    _, out_problems = read_manifest(out)
    if out_problems:
        raise DatasetBuildError([f"{out}: {x}" for x in out_problems])


MIRRORS_HELP = "folder with one git dir per source: owner+name/ (as the fetch tool lays them out) or owner/name/ (a clone)"


def _command(sub, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=summary, description=description,
                          formatter_class=argparse.ArgumentDefaultsHelpFormatter)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepfake-dct dataset",
        description="Assemble image datasets listed by a manifest from local git mirrors of their sources.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = _command(
        sub, "build", "write the manifest's images under OUT/<split>/<label>/<generator>/",
        "Read every file the manifest lists from its source's git mirror (git cat-file at the "
        "listed commit), check its sha256 and write it unchanged to "
        "OUT/<split>/<label>/<generator>/<source-slug>__<basename>. Files already in place with "
        "the right sha256 are kept. Exit status 0 when complete, 2 when anything is missing or "
        "does not match (all problems are listed).",
    )
    build.add_argument("--manifest", type=Path, default=default_manifest(), help="manifest CSV")
    build.add_argument("--mirrors", type=Path, required=True, default=argparse.SUPPRESS, help=MIRRORS_HELP)
    build.add_argument("--out", type=Path, required=True, default=argparse.SUPPRESS, help="dataset folder to write (created if absent)")
    build.add_argument("--quiet", action="store_true", help="print only the summary")
    add = _command(
        sub, "add", "list a source's files in a manifest (sha256, size and split from its git mirror)",
        "Write OUT: the manifest's rows, then one row per file of SOURCE at COMMIT whose path "
        "matches a --paths glob, with its sha256 and size read from the mirror, split in "
        "sha256 order (70% train, 15% val, the rest test) or all into --split. Files whose "
        "bytes are listed already are left out. Then 'dataset build --manifest OUT' writes them.",
    )
    add.add_argument("--manifest", type=Path, default=default_manifest(), help="manifest to start from")
    add.add_argument("--out", type=Path, required=True, default=argparse.SUPPRESS, help="manifest to write (.csv or .csv.gz)")
    add.add_argument("--mirrors", type=Path, required=True, default=argparse.SUPPRESS, help=MIRRORS_HELP)
    add.add_argument("--source", required=True, default=argparse.SUPPRESS, help="owner/name")
    add.add_argument("--commit", required=True, default=argparse.SUPPRESS, help="40 hex")
    add.add_argument("--paths", nargs="+", required=True, default=argparse.SUPPRESS, help="globs within the repository")
    add.add_argument("--label", required=True, choices=LABELS, default=argparse.SUPPRESS)
    add.add_argument("--generator", required=True, default=argparse.SUPPRESS, help="folder name: what made the images")
    add.add_argument("--kind", required=True, default=argparse.SUPPRESS, help="face, scene, ...")
    add.add_argument("--licence", required=True, default=argparse.SUPPRESS, help="the images' terms as best known")
    add.add_argument("--split", choices=SPLITS, help="put every file in this split (default: by sha256 order)")
    resplit = _command(
        sub, "resplit", "split one generator's rows again (e.g. part of a test-only source into training)",
        "Write OUT: the manifest's rows, those of GENERATOR split again in sha256 order per "
        "source and label, the first TRAIN share train, the next VAL share val, the rest test.",
    )
    resplit.add_argument("--manifest", type=Path, default=default_manifest(), help="manifest to start from")
    resplit.add_argument("--out", type=Path, required=True, default=argparse.SUPPRESS, help="manifest to write (.csv or .csv.gz)")
    resplit.add_argument("--generator", required=True, default=argparse.SUPPRESS, help="the generator (folder name) to split again")
    resplit.add_argument("--shares", type=float, nargs=2, required=True, default=argparse.SUPPRESS,
                         metavar=("TRAIN", "VAL"), help="shares of its rows for train and val")
    twins = _command(
        sub, "twins", "add a reconstructed fake twin of every real (DATA/<split>/fake/twin-<upsampler>/)",
        "Train one small autoencoder per upsampler (transposed convolution, nearest + conv, "
        "bilinear + conv, pixel shuffle) on the train split's reals, then write each real's "
        "reconstruction, labelled fake, saved with the real's own JPEG tables (or as PNG): "
        "content and compression history then carry no label. Needs TensorFlow (.[train]).",
    )
    twins.add_argument("data", type=Path, help="dataset folder written by 'dataset build'")
    twins.add_argument("--splits", nargs="+", default=["train", "val"], help="splits whose reals get twins")
    twins.add_argument("--steps", type=int, default=600, help="training steps per decoder")
    twins.add_argument("--max-side", type=int, default=512, help="largest twin side (a window of the real)")
    twins.add_argument("--seed", type=int, default=0)
    twins.add_argument("--quiet", action="store_true", help="print only the summary")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``deepfake-dct dataset build|add|resplit|twins ...``: returns 0 when done, 2 when anything is missing."""
    args = _parser().parse_args(argv)
    if args.command == "add":
        try:
            added, left_out = add_source(args.manifest, args.out, args.mirrors, source=args.source,
                                         commit=args.commit, patterns=args.paths, label=args.label,
                                         generator=args.generator, kind=args.kind, licence=args.licence,
                                         split=args.split)
        except (DatasetBuildError, OSError) as e:  # OSError: OUT cannot be written
            print(f"ERROR: {e}", file=sys.stderr)
            return 2
        for reason in left_out:
            print(f"left out: {reason}")
        print(f"added {added} row(s) of {args.source}@{args.commit[:12]}; wrote {args.out}")
        return 0
    if args.command == "resplit":
        try:
            counts = resplit_generator(args.manifest, args.out, generator=args.generator, shares=tuple(args.shares))
        except (DatasetBuildError, OSError) as e:
            print(f"ERROR: {e}", file=sys.stderr)
            return 2
        print(f"{args.generator}: " + ", ".join(f"{counts[s]} {s}" for s in SPLITS) + f"; wrote {args.out}")
        return 0
    if args.command == "twins":
        from deepfake_dct.training.twins import make_twins

        try:
            report = make_twins(args.data, args.splits, steps=args.steps, max_side=args.max_side,
                                seed=args.seed, progress=None if args.quiet else sys.stderr)
        except ValueError as e:
            print(f"ERROR: {e}", file=sys.stderr)
            return 2
        print(report.summary())
        return 0
    try:
        report = build_dataset(args.manifest, args.mirrors, args.out, progress=None if args.quiet else sys.stderr)
    except DatasetBuildError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
