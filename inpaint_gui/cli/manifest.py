"""The CSV manifest of `inpaint fill --manifest`: one image + mask pair per row."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from inpaint_gui.cli.common import UsageError

MANIFEST_COLUMNS = ("image", "mask", "stem")


@dataclass(frozen=True)
class FillJob:
    """One image + mask pair and the folder its candidates go to."""

    image: Path
    mask: Path
    outdir: Path
    where: str = ""  # "pairs.csv:3" for a manifest row, for messages


@dataclass
class Manifest:
    jobs: list[FillJob]
    errors: list[str]  # one per rejected row
    notices: list[str]  # rows whose stem had to be made unique


def read_manifest(path: Path, outdir: Path) -> Manifest:
    """Jobs from a CSV with columns image, mask and optionally stem, and one error per bad row.

    Paths are relative to the CSV's folder. The output folder is OUTDIR/<stem>, the
    stem defaulting to the image's; repeated stems get _2, _3, ... (with a message).
    Raises UsageError when the file or its header is unusable.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            header = [h.strip().lower() for h in next(reader, [])]
            _check_header(path, header)
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UsageError(f"{path}: cannot read manifest: {getattr(e, 'strerror', None) or e}") from None

    base = path.parent
    parsed: list[tuple[str, Path, Path, str]] = []
    errors: list[str] = []
    for line, row in rows:
        where = f"{path}:{line}"
        if len(row) > len(header):
            errors.append(f"{where}: has {len(row)} fields, the header has {len(header)}")
            continue
        # A short row just leaves out the optional stem.
        cells = {column: cell.strip() for column, cell in zip(header, row, strict=False)}
        if not cells.get("image") or not cells.get("mask"):
            errors.append(f"{where}: image and mask must both be given")
            continue
        image, mask = base / Path(cells["image"]).expanduser(), base / Path(cells["mask"]).expanduser()
        stem = cells.get("stem") or image.stem
        if not _is_plain_name(stem):
            errors.append(f"{where}: stem {stem!r} is not a plain folder name")
            continue
        parsed.append((where, image, mask, stem))

    jobs, notices = [], []
    taken = {stem.casefold() for *_, stem in parsed}  # folder names compare case-blind on macOS and Windows
    used: set[str] = set()
    for where, image, mask, stem in parsed:
        unique = stem
        if stem.casefold() in used:
            unique = _unused(stem, used | taken)
            notices.append(f"{where}: stem {stem!r} is already used; writing to {unique}/ instead")
        used.add(unique.casefold())
        jobs.append(FillJob(image, mask, outdir / unique, where))
    return Manifest(jobs, errors, notices)


def _check_header(path: Path, header: list[str]) -> None:
    if not header:
        raise UsageError(f"{path}: empty manifest; expected a header line: image,mask[,stem]")
    unknown = [h for h in header if h not in MANIFEST_COLUMNS]
    missing = [c for c in ("image", "mask") if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise UsageError(
            f"{path}: header is {','.join(header)!r}; expected columns image,mask and optionally stem"
        )


def _is_plain_name(name: str) -> bool:
    return name not in ("", ".", "..") and not any(c in name for c in "/\\\0:")


def _unused(stem: str, taken: set[str]) -> str:
    k = 2
    while f"{stem}_{k}".casefold() in taken:
        k += 1
    return f"{stem}_{k}"
