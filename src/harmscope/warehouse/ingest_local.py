"""Plain local copies of a batch's police.uk files, each read once, for DuckDB's reader.

Every file of a batch is read once here, in Python threads (zlib releases the GIL):

- a ``.gz`` is decompressed to its end-of-stream marker and CRC: DuckDB's reader accepts a
  gzip stream cut short, or with a damaged CRC, without complaint, so the check is needed,
  and doing it here means DuckDB then parses plain CSV and nothing is decompressed twice;
- a zip member is extracted;
- a street file is split in two. Street rows are folded to one per (Crime ID, month)
  (:mod:`harmscope.warehouse.ingest`), which needs every row of a key at once; all but a
  few thousand keys of a national extract occur once, so rows whose key cannot repeat in
  the batch go straight into ``events`` and only the rest are *set apart* for the fold in
  SQL. Folding everything in SQL instead costs a second copy (or a window) of every row,
  about as much again as the load itself (issue 13, ``docs/warehouse.md``).

The split is a test on the raw line bytes that must never miss a repeat: a row is kept in
the direct part only when its key, as the bytes of the Crime ID and Month fields stripped of
white space, occurs once in its file and its hash in no other file of the batch. Keys that
SQL would call equal (``trim`` of the Crime ID, the month as written) are therefore equal
here too; two different keys that look alike only cost a row set apart. A line holding a
double quote is always set apart (a quoted field may hold a comma or a line break, so the
line need not be one record), and so is every row of a file whose rows are all to be
dropped (a file superseded inside its own batch). Rows with a blank Crime ID never fold.

Line numbers of the split files are not the source's: on a bad row the batch is checked
again on whole copies (:func:`whole_copy`) to name the file's own line and column.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harmscope.errors import InputError
from harmscope.sources.policeuk import Header, SourceFile

#: Worker threads: decompression releases the GIL, the line split does not.
THREADS = 2


@dataclass
class LocalFile:
    """The plain copies DuckDB reads for one source file."""

    file_id: int
    src: SourceFile
    header: Header
    direct: str | None
    """Rows that cannot fold (all rows when the file is not split); None: none."""
    apart: str | None
    """Header and the rows that may fold, or None."""


def read_plain(src: SourceFile) -> bytes:
    """The file's bytes, decompressed and checked to the gzip trailer when gzipped."""
    try:
        with src.open_bytes() as fh:
            return fh.read()
    except (EOFError, zlib.error, OSError) as exc:
        if not src.name.endswith(".gz"):
            raise
        raise InputError(
            f"cannot decompress: truncated or corrupt gzip ({exc})", path=src.display
        ) from exc


def whole_copy(src: SourceFile, tmp: Path, tag: str) -> str:
    """A path to the whole file as plain CSV: the file itself, or a copy written to ``tmp``."""
    if src.member is None and not src.name.endswith(".gz"):
        return str(src.path)
    dest = tmp / f"{tag}-{_plain_name(src)}"
    dest.write_bytes(read_plain(src))
    return str(dest)


def _plain_name(src: SourceFile) -> str:
    name = Path(src.member or src.name).name
    return name[:-3] if name.endswith(".gz") else name


def _keys(lines: list[bytes], ci: int, mi: int) -> list[bytes]:
    """``Crime ID,Month`` of each line (white space stripped), for the repeat test."""
    if (ci, mi) == (0, 1):  # police.uk's own order: the key is the line up to the 2nd comma
        keys = [line[: line.find(b",", line.find(b",") + 1)] for line in lines]
        # One scan of the keys together (memchr) rather than a test per key.
        joined = b"\n".join(keys)
        if b" " in joined or b"\t" in joined:
            keys = [_norm(k, 0, 1) if b" " in k or b"\t" in k else k for k in keys]
        return keys
    return [_norm(line, ci, mi) for line in lines]


def _norm(line: bytes, ci: int, mi: int) -> bytes:
    fields = line.split(b",", max(ci, mi) + 1)
    if len(fields) <= max(ci, mi):
        return line  # too few fields: the reader refuses the record anyway
    return fields[ci].strip() + b"," + fields[mi].strip()


@dataclass
class _Split:
    lines: list[bytes]
    keys: list[bytes]
    distinct: list[bytes]
    """Distinct non-blank keys of the file."""
    repeated: set[bytes]
    quoted: set[int]


def _split(data: bytes, header: Header) -> _Split | None:
    """Lines, keys and the keys repeated in this file; None for a file that is not split."""
    if header.family != "street" or not {"Crime ID", "Month"} <= set(header.columns):
        return None
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    body = lines[1:]
    keys = _keys(body, header.columns.index("Crime ID"), header.columns.index("Month"))
    counts = Counter(keys)
    distinct = [k for k in counts if not k.startswith(b",")]
    repeated = {k for k in distinct if counts[k] > 1}
    quoted = {i for i, line in enumerate(body) if b'"' in line} if b'"' in data else set()
    if any(body[i].count(b'"') % 2 for i in quoted):
        # A quoted field spans lines: which lines make a record is the reader's call.
        quoted = set(range(len(body)))
    return _Split(lines, keys, distinct, repeated, quoted)


def _key_hashes(parts: _Split) -> np.ndarray:
    """Hashes of the distinct non-blank keys of one file (int64)."""
    return np.fromiter(map(hash, parts.distinct), np.int64, len(parts.distinct))


def prepare(
    files: list[tuple[int, SourceFile, Header]],
    tmp: Path,
    *,
    split: bool,
    whole_apart: set[int],
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> list[LocalFile]:
    """Write the batch's plain copies to ``tmp``: direct and set-apart parts per file.

    Parameters
    ----------
    files
        ``(file_id, source, header)`` of every file of the batch, in batch order.
    tmp
        A scratch folder that lives as long as the batch.
    split
        Split street files (strict mode). Without it every file is one whole copy (the
        lenient path needs the files' own line numbers).
    whole_apart
        File ids whose rows all go to the set-apart part.
    progress
        ``progress(done, total)`` per file.

    Raises
    ------
    InputError
        A gzip file that is truncated or corrupt.
    """
    out: list[LocalFile | None] = [None] * len(files)
    hashes: list[np.ndarray | None] = [None] * len(files)

    def one(k: int, extra: np.ndarray | None = None) -> None:
        file_id, src, header = files[k]
        if not split:
            out[k] = LocalFile(file_id, src, header, whole_copy(src, tmp, str(k)), None)
            return
        data = read_plain(src)
        parts = None if file_id in whole_apart else _split(data, header)
        name = _plain_name(src)
        if file_id in whole_apart:
            dest = tmp / f"{k}-apart-{name}"
            dest.write_bytes(data)
            out[k] = LocalFile(file_id, src, header, None, str(dest))
            return
        if parts is None or (not parts.repeated and not parts.quoted and extra is None):
            if parts is not None:
                hashes[k] = _key_hashes(parts)
            out[k] = LocalFile(file_id, src, header, whole_copy_of(data, src, tmp, k), None)
            return
        hashes[k] = _key_hashes(parts)
        apart = parts.repeated
        if extra is not None:
            wanted = set(extra.tolist())
            apart = apart | {key for key in set(parts.keys) if hash(key) in wanted}
        body = parts.lines[1:]
        if parts.quoted:
            moved = [i in parts.quoted or key in apart for i, key in enumerate(parts.keys)]
            direct = [line for line, m in zip(body, moved, strict=True) if not m]
            aside = [line for line, m in zip(body, moved, strict=True) if m]
        else:
            direct = [line for line, key in zip(body, parts.keys, strict=True) if key not in apart]
            aside = [line for line, key in zip(body, parts.keys, strict=True) if key in apart]
        head = parts.lines[0]
        out[k] = LocalFile(
            file_id,
            src,
            header,
            _write(tmp / f"{k}-direct-{name}", head, direct) if direct else None,
            _write(tmp / f"{k}-apart-{name}", head, aside) if aside else None,
        )

    done = 0
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for _ in pool.map(one, range(len(files))):
            done += 1
            progress(done, len(files))
    # Keys met in more than one file: those files are split again with them set apart.
    present = [(k, h) for k, h in enumerate(hashes) if h is not None and len(h)]
    if len(present) > 1:
        every = np.concatenate([h for _, h in present])
        values, counts = np.unique(every, return_counts=True)
        across = values[counts > 1]
        if len(across):
            for k, h in present:
                shared = np.intersect1d(h, across)
                if len(shared):
                    one(k, shared)
    return [f for f in out if f is not None]


def whole_copy_of(data: bytes, src: SourceFile, tmp: Path, k: int) -> str:
    """``data`` (the whole file, already read) as a path DuckDB can read."""
    if src.member is None and not src.name.endswith(".gz"):
        return str(src.path)
    dest = tmp / f"{k}-{_plain_name(src)}"
    dest.write_bytes(data)
    return str(dest)


def _write(path: Path, head: bytes, lines: list[bytes]) -> str:
    with open(path, "wb") as fh:
        fh.write(head + b"\n")
        fh.write(b"\n".join(lines))
        fh.write(b"\n")
    return str(path)
