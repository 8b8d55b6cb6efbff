"""Gather full-size photographs with clear licences for the object-removal benchmark.

    python bench/fetch_photos.py [--out DIR] [--no-update] [--git REPO=GITDIR ...] [--list]

Sources:
- Debian packages (`apt-get download`, unpacked with `dpkg-deb -x`; nothing is installed): the
  desktop wallpaper packages in DEBIAN_PACKAGES. Each picture's licence is read from the package's
  copyright file (the last DEP-5 `Files:` stanza matching it) and, for Plasma wallpapers, from the
  wallpaper's metadata.json. `lomiri-wallpapers*` are never fetched: they are held back to check
  the benchmark against.
- Git repositories of wallpapers whose licence covers every picture (GIT_SOURCES), read from a
  local clone or mirror with `git cat-file`, only when given with --git owner/name=/path/to/git-dir.

Kept: photographs of 3 MP or more. Renders, illustrations and vector art are left out by name
(RENDERS, chosen by looking at every candidate) and by a check that catches flat-shaded art
(most pixels with no fine detail at all). Pictures are deduplicated by content hash and by a
difference hash of a 9x8 thumbnail (the same picture at several sizes keeps its largest), also
against --known (the eval photos already in the shared dataset). Files are copied byte for byte
into --out (default ~/.cache/inpaint-gui/bench-photos, outside git; never commit them) with a
SOURCES.md: file, pixels, package and version (or repository and commit), path inside it, licence.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import logging
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger("fetch_photos")

DEFAULT_OUT = Path.home() / ".cache" / "inpaint-gui" / "bench-photos"
DEFAULT_KNOWN = Path("/work/shared/datasets/eval/photos-full")
DEBIAN_PACKAGES = (
    "plasma-workspace-wallpapers",
    "mate-backgrounds",
    "lxqt-themes",
    "ukui-wallpapers",
    "gnome-backgrounds",
    "sway-backgrounds",
    "desktop-base",
)
# Held back: the benchmark is checked against them later.
FORBIDDEN = re.compile(r"^lomiri-wallpapers")


@dataclass(frozen=True)
class GitSource:
    licence: str
    prefix: str  # folder inside the repository holding the pictures
    url: str


GIT_SOURCES = {
    "BuddiesOfBudgie/budgie-backgrounds": GitSource(
        "CC0-1.0 (repository LICENSE; README: every image reviewed as CC0 or public domain)",
        "backgrounds/",
        "https://github.com/BuddiesOfBudgie/budgie-backgrounds",
    ),
    "pop-os/wallpapers": GitSource(
        "Unsplash photos published before June 2017, CC0 (README: 'in the public domain')",
        "original/",
        "https://github.com/pop-os/wallpapers",
    ),
}
# Renders, illustrations and vector art among the sources' large pictures (seen one by one).
RENDERS = re.compile(
    r"(gnome-backgrounds/.*|desktop-base/.*|sway-backgrounds/.*|"
    r".*/wallpapers/(Altai|Autumn|Canopee|Cascade|Cluster|Elarun|Flow|FlyingKonqui|Honeywave|IceCold|"
    r"Kay|Kokkini|Opal|PastelHills|Patak|SafeLanding|Shell|Volna)/.*|"
    r".*lxqt/wallpapers/(simple_blue_widescreen|waves-logo|waves-purple-logo|kde-plasma)\..*|"
    r".*mate/abstract/.*|ukui-wallpapers/.*|.*kate-hazen.*|.*nick-nazzaro.*|.*abstract-spiral.*)$"
)
MIN_PIXELS = 3_000_000
EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")


@dataclass
class Found:
    data: bytes
    origin: str  # package + version, or repository + commit
    inner: str  # path inside it
    licence: str
    name: str  # file name to write
    pixels: tuple[int, int] = (0, 0)


def run(cmd: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()[-400:]}")
    return done.stdout


def dep5_licences(copyright_text: str) -> list[tuple[list[str], str]]:
    """(Files globs, licence) per stanza of a DEP-5 copyright file, in order."""
    out = []
    for stanza in re.split(r"\n\s*\n", copyright_text):
        files = re.search(r"^Files:(.*(?:\n[ \t].*)*)", stanza, re.M)
        lic = re.search(r"^License:\s*(\S.*)$", stanza, re.M)
        if files and lic:
            out.append((files.group(1).split(), lic.group(1).strip()))
    return out


def licence_for(path: str, stanzas: list[tuple[list[str], str]]) -> str:
    """The licence of the last stanza whose globs match `path` (DEP-5's rule); globs are tried
    against the path's tails so `nature/Aqua.jpg` matches /usr/share/backgrounds/mate/nature/Aqua.jpg."""
    parts = path.strip("/").split("/")
    tails = ["/".join(parts[i:]) for i in range(len(parts))]
    found = "unknown"
    for globs, lic in stanzas:
        if any(fnmatch.fnmatch(t, g) for g in globs for t in tails):
            found = lic
    return found


def debian_candidates(work: Path, update: bool) -> list[Found]:
    debs = work
    debs.mkdir(parents=True, exist_ok=True)
    if update:
        log.info("apt-get update")
        run(["apt-get", "update"])
    out: list[Found] = []
    for pkg in DEBIAN_PACKAGES:
        if FORBIDDEN.match(pkg):
            raise ValueError(f"{pkg} is held back from the benchmark")
        if not list(debs.glob(f"{pkg}_*.deb")):
            log.info("apt-get download %s", pkg)
            run(["apt-get", "download", pkg], cwd=debs)
        deb = sorted(debs.glob(f"{pkg}_*.deb"))[-1]
        version = run(["dpkg-deb", "-f", str(deb), "Version"]).strip()
        root = work / "x" / pkg
        if not root.is_dir():
            root.mkdir(parents=True)
            run(["dpkg-deb", "-x", str(deb), str(root)])
        cfile = root / "usr/share/doc" / pkg / "copyright"
        stanzas = dep5_licences(cfile.read_text(errors="replace")) if cfile.is_file() else []
        for f in sorted(root.rglob("*")):
            if f.is_symlink() or not f.is_file() or f.suffix.lower() not in EXTENSIONS:
                continue
            inner = "/" + str(f.relative_to(root))
            lic = licence_for(inner, stanzas)
            meta = _plasma_metadata(f)
            if meta:
                lic = f"{meta} (metadata.json); package copyright: {lic}"
            name = _name(pkg, inner)
            out.append(Found(f.read_bytes(), f"Debian {pkg} {version}", inner, lic, name))
    return out


def _plasma_metadata(f: Path) -> str:
    """'LGPLv3, by Risto Saukonpää' from a Plasma wallpaper's metadata.json, or ''."""
    for parent in f.parents:
        meta = parent / "metadata.json"
        if meta.is_file():
            try:
                plugin = json.loads(meta.read_text()).get("KPlugin", {})
            except (json.JSONDecodeError, UnicodeDecodeError):
                return ""
            authors = ", ".join(a.get("Name", "") for a in plugin.get("Authors", []))
            return f"{plugin.get('License', 'unknown')}, by {authors or 'unknown'}"
        if parent.name == "wallpapers":
            return ""
    return ""


def _name(pkg: str, inner: str) -> str:
    short = {"plasma-workspace-wallpapers": "kde", "mate-backgrounds": "mate", "lxqt-themes": "lxqt"}
    m = re.search(r"/wallpapers/([^/]+)/contents/", inner)
    stem = m.group(1) if m else Path(inner).stem
    stem = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower()
    return f"{short.get(pkg, pkg.split('-')[0])}_{stem}{Path(inner).suffix.lower()}"


def git_candidates(repo: str, gitdir: Path) -> list[Found]:
    source = GIT_SOURCES[repo]
    commit = run(["git", "-C", str(gitdir), "rev-parse", "HEAD"]).strip()
    out = []
    for line in run(["git", "-C", str(gitdir), "ls-tree", "-r", "HEAD", source.prefix]).splitlines():
        meta, path = line.split("\t", 1)
        if Path(path).suffix.lower() not in EXTENSIONS:
            continue
        blob = meta.split()[2]
        done = subprocess.run(["git", "-C", str(gitdir), "cat-file", "blob", blob], capture_output=True)
        if done.returncode != 0:
            log.warning("%s: %s is not in this copy; skipped", repo, path)
            continue
        stem = re.sub(r"[^A-Za-z0-9]+", "-", Path(path).stem).strip("-").lower()
        prefix = {"BuddiesOfBudgie/budgie-backgrounds": "budgie", "pop-os/wallpapers": "pop"}[repo]
        out.append(
            Found(
                done.stdout,
                f"GitHub {repo} @ {commit[:12]}",
                path,
                f"{source.licence}; {source.url}",
                f"{prefix}_{stem}{Path(path).suffix.lower()}",
            )
        )
    return out


def looks_flat(image: np.ndarray) -> bool:
    """Flat-shaded art: more than half of the pixels have no fine detail at all (a photo's noise
    and grain give nearly every pixel some)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    lap = cv2.Laplacian(grey, cv2.CV_16S, ksize=1)
    return float((lap == 0).mean()) > 0.5


def dhash(image: np.ndarray) -> bytes:
    g = cv2.resize(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), (9, 8), interpolation=cv2.INTER_AREA)
    return np.packbits(g[:, 1:] > g[:, :-1]).tobytes()


def select(found: list[Found], known: Path | None) -> tuple[list[Found], list[str]]:
    """Photos of MIN_PIXELS or more, no renders, no duplicates (largest copy kept)."""
    skipped: list[str] = []
    known_hashes: set[bytes] = set()
    if known is not None and known.is_dir():
        for f in sorted(known.iterdir()):
            im = cv2.imread(str(f), cv2.IMREAD_COLOR) if f.suffix.lower() in EXTENSIONS else None
            if im is not None:
                known_hashes.add(dhash(im))
    best: dict[bytes, Found] = {}
    seen_bytes: set[str] = set()
    for c in found:
        digest = hashlib.sha256(c.data).hexdigest()
        if digest in seen_bytes:
            continue
        seen_bytes.add(digest)
        where = f"{c.origin}: {c.inner}"
        if RENDERS.match(f"{c.origin.split()[1]}{c.inner}" if c.origin.startswith("Debian") else c.inner):
            skipped.append(f"{where} (render or illustration)")
            continue
        im = cv2.imdecode(np.frombuffer(c.data, np.uint8), cv2.IMREAD_COLOR)
        if im is None:
            skipped.append(f"{where} (unreadable)")
            continue
        c.pixels = (im.shape[1], im.shape[0])
        if im.shape[0] * im.shape[1] < MIN_PIXELS:
            continue  # small sizes of the same pictures, icons: not worth a line each
        if looks_flat(im):
            skipped.append(f"{where} (flat-shaded art)")
            continue
        h = dhash(im)
        if h in known_hashes:
            skipped.append(f"{where} (already in {known})")
            continue
        if h in best and best[h].pixels[0] * best[h].pixels[1] >= c.pixels[0] * c.pixels[1]:
            continue
        best[h] = c
    kept = sorted(best.values(), key=lambda c: c.name)
    names: set[str] = set()
    for c in kept:  # two pictures of one wallpaper (light / dark) would share a name
        stem, ext = Path(c.name).stem, Path(c.name).suffix
        i = 1
        while c.name in names:
            i += 1
            c.name = f"{stem}-{i}{ext}"
        names.add(c.name)
    return kept, skipped


def write(kept: list[Found], skipped: list[str], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows = [
        "# Photographs for the object-removal benchmark (bench/fetch_photos.py)",
        "",
        "Copied byte for byte from their sources. Not for git: never commit them or crops of them.",
        "",
        "| file | pixels | MP | source | path in source | licence |",
        "|---|---|---|---|---|---|",
    ]
    for c in kept:
        (out / c.name).write_bytes(c.data)
        w, h = c.pixels
        rows.append(f"| `{c.name}` | {w}x{h} | {w * h / 1e6:.1f} | {c.origin} | `{c.inner}` | {c.licence} |")
    rows += ["", f"{len(kept)} photographs.", "", "## Left out", ""] + [f"- {s}" for s in skipped]
    (out / "SOURCES.md").write_text("\n".join(rows) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--work", type=Path, default=None, help="download cache (default: OUT/../bench-debs)")
    ap.add_argument("--known", type=Path, default=DEFAULT_KNOWN, help="photos to leave out (same picture)")
    ap.add_argument("--no-update", action="store_true", help="skip `apt-get update`")
    ap.add_argument("--git", action="append", default=[], metavar="OWNER/NAME=GITDIR")
    ap.add_argument("--list", action="store_true", help="print what would be kept; write nothing")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    work = args.work or args.out.parent / "bench-debs"
    found = debian_candidates(work, update=not args.no_update)
    for spec in args.git:
        repo, _, gitdir = spec.partition("=")
        if repo not in GIT_SOURCES or not gitdir:
            print(f"--git takes one of {', '.join(GIT_SOURCES)}=/path/to/git-dir, got {spec!r}")
            return 2
        found += git_candidates(repo, Path(gitdir))
    kept, skipped = select(found, args.known)
    for c in kept:
        print(f"{c.name:40s} {c.pixels[0]}x{c.pixels[1]}  {c.origin}  {c.licence[:60]}")
    print(f"{len(kept)} photographs")
    if not args.list:
        write(kept, skipped, args.out)
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
