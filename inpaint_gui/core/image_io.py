"""Reading and writing images and masks with Pillow.

Everything read comes back as uint8 (H, W, 3) RGB plus an optional uint8 (H, W)
alpha, upright (EXIF orientation applied), whatever the file's mode or bit depth.
Every problem with a file is an ImageError whose one-line message names the file.
"""

from __future__ import annotations

import io
import logging
import os
import struct
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

import numpy as np
from numpy.typing import NDArray
from PIL import ExifTags, Image, UnidentifiedImageError

from inpaint_gui.core.compose import describe
from inpaint_gui.core.files import atomic_write

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Largest image read unless the caller says otherwise (a 200 MP phone photo fits).
DEFAULT_MAX_PIXELS = 200_000_000

#: Formats we let Pillow identify on reading. Leaving out the exotic ones keeps
#: Pillow from trying them on garbage (and EPS would run Ghostscript).
_READ_FORMATS = ("PNG", "JPEG", "MPO", "WEBP", "TIFF", "BMP", "GIF", "PPM", "AVIF")

#: Exceptions Pillow raises for a file it cannot decode.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ORIENTATION = ExifTags.Base.Orientation
_EXIF_HEADER = b"Exif\x00\x00"
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_16BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})


@dataclass(frozen=True)
class _WriteFormat:
    pillow: str
    alpha: bool
    metadata: bool  # ICC profile and EXIF
    quality: bool


_WRITE_FORMATS = {
    ".png": _WriteFormat("PNG", alpha=True, metadata=True, quality=False),
    ".jpg": _WriteFormat("JPEG", alpha=False, metadata=True, quality=True),
    ".jpeg": _WriteFormat("JPEG", alpha=False, metadata=True, quality=True),
    ".webp": _WriteFormat("WEBP", alpha=True, metadata=True, quality=True),
    ".tif": _WriteFormat("TIFF", alpha=True, metadata=True, quality=False),
    ".tiff": _WriteFormat("TIFF", alpha=True, metadata=True, quality=False),
    ".bmp": _WriteFormat("BMP", alpha=False, metadata=False, quality=False),
}
SAVE_EXTENSIONS = tuple(_WRITE_FORMATS)


class ImageError(ValueError):
    """An image or mask file that cannot be read or written, with a one-line message for the user."""


@dataclass
class LoadedImage:
    """An image as read from disk, ready for the engine, with what is needed to write it back."""

    rgb: NDArray[np.uint8]  # (H, W, 3) RGB
    alpha: NDArray[np.uint8] | None  # (H, W), or None when the file has no transparency
    icc_profile: bytes | None  # an RGB colour profile; others do not fit the converted pixels
    exif: bytes | None  # with the orientation reset to 1, since the pixels are upright now
    path: Path | None
    format: str  # Pillow's name for the file format, e.g. "PNG"
    digest: str | None = None  # of the file's bytes, where the opener asked for it (files.file_digest)
    bits: int = 8  # bits per channel in the file; more than 8 were rounded to 8 (see `depth_note`)

    def depth_note(self) -> str:
        """A note for the user when the file held more than 8 bits per channel; else ""."""
        if self.bits <= 8:
            return ""
        return f"{self.bits}-bit image: edited and saved with 8 bits per channel"

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.rgb.shape[1], self.rgb.shape[0]


def load_image(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Read an image file as upright 8-bit RGB (+ alpha).

    Raises ImageError for a missing, unreadable, corrupt or truncated file, and
    for one with more than max_pixels pixels (checked from the header, before
    decoding). Pillow's own global limit (2 x PIL.Image.MAX_IMAGE_PIXELS) also
    applies; see `raise_pillow_limit`.
    """
    path = Path(path)
    _check_readable(path)
    return _read(path, str(path), max_pixels, lambda im, exif: _loaded(im, exif, path))


def load_image_bytes(
    data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, name: str = "pasted image"
) -> LoadedImage:
    """Like load_image, for an encoded image in memory (clipboard, drag and drop); name is for messages."""
    if not data:
        raise ImageError(f"{name}: no data")
    return _read(io.BytesIO(data), name, max_pixels, lambda im, exif: _loaded(im, exif, None))


def load_mask(
    path: str | os.PathLike[str],
    size: tuple[int, int] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> NDArray[np.bool_]:
    """Read a mask file as bool (H, W), True = fill.

    A pixel is fill when it is non-zero; in an image with alpha, when its colour
    is non-zero and it is not fully transparent. size=(width, height) is the
    image's size; a mask of another size is an ImageError naming both.
    """
    path = Path(path)
    _check_readable(path)
    mask = _read(path, str(path), max_pixels, lambda im, _exif: _mask_from(im))
    if size is not None and (mask.shape[1], mask.shape[0]) != tuple(size):
        width, height = size
        raise ImageError(f"{path}: mask is {mask.shape[1]}x{mask.shape[0]} but the image is {width}x{height}")
    return mask


def output_format(path: str | os.PathLike[str]) -> str:
    """The format save_image writes path in; ImageError for an extension it cannot write, so a
    command can refuse its output names before any work."""
    path = Path(path)
    fmt = _WRITE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(
            f"{path}: cannot write {path.suffix or 'a file without extension'}; "
            f"supported: {', '.join(SAVE_EXTENSIONS)}"
        )
    return fmt


def save_image(
    path: str | os.PathLike[str],
    rgb: NDArray[np.uint8],
    alpha: NDArray[np.uint8] | None = None,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
    quality: int = 95,
    overwrite: bool = False,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """Write an image atomically, in the format named by the extension; returns the path.

    Refuses to replace an existing file, and in particular any path in protect
    (the input), unless overwrite=True. Alpha, ICC profile and EXIF are kept
    where the format can hold them (alpha: PNG, WebP, TIFF); JPEG and BMP drop alpha.
    """
    path = Path(path)
    fmt = output_format(path)
    _check_pixels(path, rgb, alpha)
    if not 1 <= quality <= 100:
        raise ImageError(f"{path}: quality must be between 1 and 100, got {quality}")
    if not overwrite:
        if any(same_file(path, Path(p)) for p in protect):
            raise ImageError(f"{path}: is the input file; refusing to overwrite it unless asked to")
        if path.exists():
            raise ImageError(f"{path}: already exists; refusing to overwrite it unless asked to")
    if not path.parent.is_dir():
        raise ImageError(f"{path}: folder {path.parent} does not exist")

    im = Image.fromarray(np.ascontiguousarray(rgb))
    if alpha is not None:
        if fmt.alpha:
            im.putalpha(Image.fromarray(np.ascontiguousarray(alpha)))
        else:
            log.info("%s: %s cannot hold transparency; alpha dropped", path, fmt.pillow)
    options: dict[str, object] = {}
    if fmt.quality:
        options["quality"] = quality
    if fmt.metadata:
        if icc_profile:
            options["icc_profile"] = icc_profile
        if exif:
            options["exif"] = exif
    try:
        with atomic_write(path) as file:
            im.save(file, format=fmt.pillow, **options)
    except (OSError, ValueError) as e:  # ValueError: metadata the format cannot hold, e.g. huge EXIF
        raise ImageError(f"{path}: cannot write: {getattr(e, 'strerror', None) or e}") from None
    return path


def raise_pillow_limit(max_pixels: int) -> None:
    """For application entry points only: stop Pillow's own global decompression-bomb
    check from rejecting images below max_pixels. Never lowers it; our own limit still applies.
    """
    current = Image.MAX_IMAGE_PIXELS
    if current is not None and 2 * current < max_pixels:
        Image.MAX_IMAGE_PIXELS = (max_pixels + 1) // 2


def parse_max_pixels(text: str) -> int:
    """Parse a pixel limit such as '200000000' or '2e8' (from INPAINT_MAX_PIXELS); ValueError if invalid."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"pixel limit must be a number, got {text!r}") from None
    if not value >= 1 or value == float("inf"):
        raise ValueError(f"pixel limit must be a positive number, got {text!r}")
    return int(value)


# --- reading -------------------------------------------------------------------------------------


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise ImageError(f"{path}: file not found")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: file is empty")


def _read(
    source: Path | IO[bytes],
    name: str,
    max_pixels: int,
    convert: Callable[[Image.Image, bytes | None], T],
) -> T:
    """Decode an image and return convert(upright image, EXIF bytes); every failure is an ImageError.

    The size is checked from the header, before any pixel is decoded. convert
    runs while the file is open. Pillow's warnings are logged instead of printed;
    its decompression-bomb warning is dropped since our own limit decides.
    """
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    Image.init()
    formats = [f for f in _READ_FORMATS if f in Image.OPEN]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(source, formats=formats) as im:
                _check_size(im.size, name, max_pixels)
                bits = _file_bits(im)  # the decoder's raw mode says it; load() forgets it
                im.load()
                if bits > 8:
                    im.info[_BITS_KEY] = bits
                    log.warning("%s: %d bits per channel, read as 8", name, bits)
                return convert(*_upright(im, name))
        except ImageError:
            raise
        except Image.DecompressionBombError:
            limit = min(max_pixels, 2 * (Image.MAX_IMAGE_PIXELS or 0))
            raise ImageError(f"{name}: image is over the limit of {_megapixels(limit)}") from None
        except UnidentifiedImageError:
            raise ImageError(
                f"{name}: not an image file Pillow can read (readable: {', '.join(formats)})"
            ) from None
        except FileNotFoundError:
            raise ImageError(f"{name}: file not found") from None
        except PermissionError:
            raise ImageError(f"{name}: permission denied") from None
        except _DECODE_ERRORS as e:
            raise ImageError(f"{name}: corrupt or truncated image ({e})") from None
        finally:
            for warning in caught:
                log.warning("%s: %s", name, warning.message)


def _check_size(size: tuple[int, int], name: str, max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ImageError(f"{name}: image has zero size ({width}x{height})")
    if width * height > max_pixels:
        raise ImageError(
            f"{name}: image is {width}x{height} ({_megapixels(width * height)}), "
            f"over the limit of {_megapixels(max_pixels)}"
        )


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.3g} megapixels"


def _upright(im: Image.Image, name: str) -> tuple[Image.Image, bytes | None]:
    """Apply the EXIF orientation; return the image and its EXIF block with the orientation reset."""
    try:
        exif = im.getexif()
    except _DECODE_ERRORS + (KeyError, TypeError) as e:
        log.warning("%s: unreadable EXIF data ignored (%s)", name, e)
        return im, None
    method = _TRANSPOSE.get(exif.get(_ORIENTATION, 1))
    if method is not None:
        im = im.transpose(method)
    # Only real EXIF blocks travel on; a TIFF's getexif() is its own file structure.
    raw = im.info.get("exif")
    if not isinstance(raw, bytes) or not raw:
        return im, None
    if raw.startswith((b"II*\x00", b"MM\x00*")):  # bare TIFF structure: writers expect the APP1 header
        raw = _EXIF_HEADER + raw
    if exif.get(_ORIENTATION, 1) == 1:
        return im, raw
    exif[_ORIENTATION] = 1
    try:
        return im, exif.tobytes()
    except _DECODE_ERRORS + (KeyError, TypeError) as e:
        log.warning("%s: EXIF data dropped, it cannot be rewritten (%s)", name, e)
        return im, None


def _loaded(im: Image.Image, exif: bytes | None, path: Path | None) -> LoadedImage:
    rgb, alpha = _to_rgb(im)
    profile = _rgb_profile(im.info.get("icc_profile"))
    return LoadedImage(rgb, alpha, profile, exif, path, im.format or "", bits=im.info.get(_BITS_KEY, 8))


#: Where _read leaves a deep file's bit depth for _loaded, on the image's info.
_BITS_KEY = "inpaint_gui.bits"


def _file_bits(im: Image.Image) -> int:
    """Bits per channel the file stores, from the decoder's raw mode ("RGB;16B", "I;16", "F;32F")."""
    if im.mode == "F":
        return 32
    if im.mode in _16BIT_MODES:
        return 16
    for tile in getattr(im, "tile", None) or ():
        args = tile.args if hasattr(tile, "args") else tile[3]
        raw = args[0] if isinstance(args, tuple) and args else args
        if isinstance(raw, str) and ";16" in raw:
            return 16
    return 8


def _to_rgb(im: Image.Image) -> tuple[NDArray[np.uint8], NDArray[np.uint8] | None]:
    """uint8 (H, W, 3) RGB and uint8 (H, W) alpha (None without transparency) from any mode."""
    if im.mode in _16BIT_MODES or im.mode == "F":
        grey = _scale_to_8bit(np.asarray(im), im.mode)
        return np.repeat(grey[:, :, None], 3, axis=2), None
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        rgba = np.array(im.convert("RGBA"))
        return np.ascontiguousarray(rgba[:, :, :3]), np.ascontiguousarray(rgba[:, :, 3])
    # CMYK, YCbCr, LAB, HSV, palette, 1-bit and grey all have a conversion to RGB in Pillow.
    return np.array(im.convert("RGB")), None


def _scale_to_8bit(values: NDArray, mode: str) -> NDArray[np.uint8]:
    """Map 16-bit (0..65535) or float (0..1) grey values to 0..255, rounding."""
    if mode == "F":
        values = np.nan_to_num(values.astype(np.float32), nan=0.0)
        return np.round(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)
    # "I" is 32-bit; Pillow uses it for 16-bit data from some files, so read it as 16-bit.
    values = np.clip(values.astype(np.int64), 0, 65535)
    return ((values * 255 + 32767) // 65535).astype(np.uint8)


def _rgb_profile(profile: object) -> bytes | None:
    """The profile if it describes RGB data (bytes 16-20 of an ICC header name the colour space)."""
    if isinstance(profile, bytes) and profile[16:20] == b"RGB ":
        return profile
    return None


def _mask_from(im: Image.Image) -> NDArray[np.bool_]:
    if im.mode in _16BIT_MODES or im.mode == "F":
        return np.asarray(im) != 0  # raw values: scaling to 8 bits would lose faint marks
    if im.mode in ("1", "L"):
        return np.asarray(im.convert("L")) != 0
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        rgba = np.asarray(im.convert("RGBA"))
        return rgba[:, :, :3].any(axis=2) & (rgba[:, :, 3] != 0)
    return np.asarray(im.convert("RGB")).any(axis=2)


# --- writing -------------------------------------------------------------------------------------


def _check_pixels(path: Path, rgb: NDArray[np.uint8], alpha: NDArray[np.uint8] | None) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ImageError(f"{path}: pixels must be a uint8 (H, W, 3) RGB array, got {describe(rgb)}")
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ImageError(f"{path}: cannot write an empty image")
    if alpha is not None and (
        not isinstance(alpha, np.ndarray) or alpha.dtype != np.uint8 or alpha.shape != rgb.shape[:2]
    ):
        raise ImageError(
            f"{path}: alpha must be a uint8 array of shape {rgb.shape[:2]}, got {describe(alpha)}"
        )


def same_file(a: Path, b: Path) -> bool:
    """Both paths name one existing file (by inode; by resolved path if that cannot be checked)."""
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()
