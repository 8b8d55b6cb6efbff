"""Image and mask files: every kind of input Pillow hands us, bad files, and safe writing."""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile

from inpaint_gui.core import image_io
from inpaint_gui.core.image_io import ImageError, load_image, load_image_bytes, load_mask, save_image

RED, BLUE = (255, 0, 0), (0, 0, 255)


def _png_bytes(width: int, height: int, bit_depth: int = 8, colour_type: int = 2, rows: bytes = b"") -> bytes:
    """A PNG written by hand, so the header can claim any size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _halves(width: int, height: int, left=RED, right=BLUE) -> np.ndarray:
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[:, : width // 2] = left
    rgb[:, width // 2 :] = right
    return rgb


# --- reading: modes and depths -------------------------------------------------------------------


def test_rgb_channel_order_is_kept(tmp_path: Path) -> None:
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[0, 0] = RED
    rgb[1, 1] = (0, 255, 0)
    rgb[2, 2] = BLUE
    Image.fromarray(rgb).save(tmp_path / "a.png")
    loaded = load_image(tmp_path / "a.png")
    assert loaded.rgb.dtype == np.uint8 and loaded.rgb.shape == (4, 6, 3)
    np.testing.assert_array_equal(loaded.rgb, rgb)
    assert loaded.alpha is None and loaded.format == "PNG" and loaded.path == tmp_path / "a.png"
    assert loaded.size == (6, 4)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_exif_orientation_is_applied_and_reset(tmp_path: Path, suffix: str) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # stored sideways: display rotated 90 degrees clockwise
    exif[ExifTags.Base.Make] = "TestCam"
    Image.fromarray(_halves(64, 32)).save(tmp_path / f"r{suffix}", exif=exif, quality=95)

    loaded = load_image(tmp_path / f"r{suffix}")

    assert loaded.rgb.shape == (64, 32, 3)  # upright: taller than wide
    # The stored left half (red) is on top once rotated clockwise.
    assert np.abs(loaded.rgb[:24].astype(int) - RED).max() < 40
    assert np.abs(loaded.rgb[-24:].astype(int) - BLUE).max() < 40
    kept = Image.Exif()
    kept.load(loaded.exif)
    assert kept[ExifTags.Base.Orientation] == 1
    assert kept[ExifTags.Base.Make] == "TestCam"
    # Written back out, the EXIF says "upright" and so does a viewer.
    again = load_image(save_image(tmp_path / "again.jpg", loaded.rgb, exif=loaded.exif))
    assert again.rgb.shape == loaded.rgb.shape
    assert Image.open(tmp_path / "again.jpg").getexif()[ExifTags.Base.Make] == "TestCam"


def test_grayscale_becomes_equal_rgb_channels(tmp_path: Path) -> None:
    grey = np.arange(256, dtype=np.uint8).reshape(16, 16)
    Image.fromarray(grey, "L").save(tmp_path / "g.png")
    loaded = load_image(tmp_path / "g.png")
    for channel in range(3):
        np.testing.assert_array_equal(loaded.rgb[:, :, channel], grey)


def test_grey_with_alpha_keeps_alpha(tmp_path: Path) -> None:
    la = Image.merge("LA", [Image.new("L", (4, 3), 200), Image.new("L", (4, 3), 77)])
    la.save(tmp_path / "la.png")
    loaded = load_image(tmp_path / "la.png")
    assert (loaded.rgb == 200).all() and loaded.alpha is not None and (loaded.alpha == 77).all()


def test_palette_with_transparency(tmp_path: Path) -> None:
    im = Image.new("P", (4, 2))
    im.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    im.putdata([0, 1, 2, 1, 1, 1, 2, 0])
    im.save(tmp_path / "p.png", transparency=0)

    loaded = load_image(tmp_path / "p.png")

    assert tuple(loaded.rgb[0, 1]) == RED and tuple(loaded.rgb[0, 2]) == BLUE
    assert loaded.alpha is not None
    np.testing.assert_array_equal(loaded.alpha, [[0, 255, 255, 255], [255, 255, 255, 0]])


def test_palette_without_transparency_has_no_alpha(tmp_path: Path) -> None:
    Image.fromarray(_halves(8, 4)).convert("P").save(tmp_path / "p.gif")
    loaded = load_image(tmp_path / "p.gif")
    assert loaded.alpha is None
    assert tuple(loaded.rgb[0, 0]) == RED and tuple(loaded.rgb[0, -1]) == BLUE


def test_rgba_keeps_alpha(tmp_path: Path) -> None:
    rgba = np.zeros((3, 5, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = np.arange(15, dtype=np.uint8).reshape(3, 5) * 17
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    loaded = load_image(tmp_path / "a.png")
    np.testing.assert_array_equal(loaded.rgb, rgba[..., :3])
    np.testing.assert_array_equal(loaded.alpha, rgba[..., 3])


def test_16bit_grey_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    values = np.array([[0, 257, 257 * 100, 32896, 65535]], np.uint16)
    Image.fromarray(values).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode == "I;16"  # the case the test is about
    loaded = load_image(tmp_path / "g16.png")
    np.testing.assert_array_equal(loaded.rgb[..., 0], [[0, 1, 100, 128, 255]])


def test_16bit_big_endian_tiff(tmp_path: Path) -> None:
    values = np.array([[0, 257 * 10, 65535]], ">u2")
    im = Image.frombuffer("I;16B", (3, 1), values.tobytes(), "raw", "I;16B", 0, 1)
    loaded = load_image_bytes(_tiff_bytes(im))
    np.testing.assert_array_equal(loaded.rgb[..., 1], [[0, 10, 255]])


def _tiff_bytes(im: Image.Image) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format="TIFF")
    return buffer.getvalue()


def test_32bit_int_tiff_read_as_16bit_range(tmp_path: Path) -> None:
    im = Image.fromarray(np.array([[0, 257 * 50, 65535, 100000]], np.int32))
    assert im.mode == "I"
    loaded = load_image_bytes(_tiff_bytes(im))
    np.testing.assert_array_equal(loaded.rgb[..., 2], [[0, 50, 255, 255]])


def test_16bit_rgb_png(tmp_path: Path) -> None:
    pixels = [(65535, 0, 0), (0, 32896, 0), (0, 0, 257 * 7)]
    row = b"\x00" + b"".join(struct.pack(">HHH", *p) for p in pixels)  # filter byte, then samples
    (tmp_path / "rgb16.png").write_bytes(_png_bytes(3, 1, bit_depth=16, colour_type=2, rows=row))
    loaded = load_image(tmp_path / "rgb16.png")
    np.testing.assert_allclose(loaded.rgb[0], [(255, 0, 0), (0, 128, 0), (0, 0, 7)], atol=1)


def test_float_tiff_is_read_as_0_to_1(tmp_path: Path) -> None:
    im = Image.fromarray(np.array([[0.0, 0.5, 1.0, 3.0, -1.0, np.nan]], np.float32))
    assert im.mode == "F"
    loaded = load_image_bytes(_tiff_bytes(im))
    np.testing.assert_array_equal(loaded.rgb[..., 0], [[0, 128, 255, 255, 0, 0]])


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    cmyk = Image.new("CMYK", (16, 8), (0, 255, 255, 0))  # no cyan, full magenta and yellow: red
    cmyk.paste((255, 255, 0, 0), (8, 0, 16, 8))  # cyan + magenta: blue
    cmyk.save(tmp_path / "c.jpg", quality=95)
    loaded = load_image(tmp_path / "c.jpg")
    assert loaded.rgb.shape == (8, 16, 3)
    assert np.abs(loaded.rgb[:, :6].astype(int) - RED).max() < 30
    assert np.abs(loaded.rgb[:, -6:].astype(int) - BLUE).max() < 30


def test_rgb_icc_profile_kept_on_the_way_through(tmp_path: Path) -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(_halves(4, 4)).save(tmp_path / "icc.png", icc_profile=profile)
    loaded = load_image(tmp_path / "icc.png")
    assert loaded.icc_profile == profile
    save_image(tmp_path / "out.jpg", loaded.rgb, icc_profile=loaded.icc_profile)
    assert Image.open(tmp_path / "out.jpg").info.get("icc_profile") == profile


def test_non_rgb_icc_profile_is_dropped(tmp_path: Path) -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    assert profile[16:20] != b"RGB "
    Image.fromarray(_halves(4, 4)).save(tmp_path / "lab.png", icc_profile=profile)
    assert load_image(tmp_path / "lab.png").icc_profile is None


def test_load_image_bytes_round_trip() -> None:
    buffer = io.BytesIO()
    Image.fromarray(_halves(6, 2)).save(buffer, format="PNG")
    loaded = load_image_bytes(buffer.getvalue())
    np.testing.assert_array_equal(loaded.rgb, _halves(6, 2))
    assert loaded.path is None and loaded.format == "PNG"


# --- reading: bad files --------------------------------------------------------------------------


def _expect_error(path_or_bytes: Path | bytes, *words: str, **kwargs: object) -> str:
    """The error message, after checking it names the file and no warning got out."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageError) as info:
            if isinstance(path_or_bytes, bytes):
                load_image_bytes(path_or_bytes, name="clip", **kwargs)
            else:
                load_image(path_or_bytes, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert (path_or_bytes.name if isinstance(path_or_bytes, Path) else "clip") in message
    for word in words:
        assert word in message
    assert [str(w.message) for w in caught] == []
    return message


def test_missing_file_folder_and_empty_file(tmp_path: Path) -> None:
    _expect_error(tmp_path / "nope.png", "not found")
    (tmp_path / "folder.png").mkdir()
    _expect_error(tmp_path / "folder.png", "folder")
    (tmp_path / "empty.png").write_bytes(b"")
    _expect_error(tmp_path / "empty.png", "empty")


def test_garbage_is_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_bytes(b"these are not the pixels you are looking for\n" * 20)
    _expect_error(tmp_path / "notes.png", "not an image")
    _expect_error(b"\x00\x01garbage" * 10, "not an image")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_truncated_file(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(tmp_path / f"full{suffix}")
    data = (tmp_path / f"full{suffix}").read_bytes()
    (tmp_path / f"cut{suffix}").write_bytes(data[: len(data) // 2])
    _expect_error(tmp_path / f"cut{suffix}")


def test_header_beyond_the_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_bytes(100_000, 100_000))
    assert path.stat().st_size < 100
    before = Image.MAX_IMAGE_PIXELS
    _expect_error(path, "limit")
    assert Image.MAX_IMAGE_PIXELS == before  # handled locally, not by changing Pillow's global


def test_limit_is_configurable_and_checked_before_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Image.new("RGB", (40, 30)).save(tmp_path / "a.png")
    with monkeypatch.context() as patch:

        def no_decoding(self: object) -> None:
            raise AssertionError("pixels decoded before the size check")

        patch.setattr(ImageFile.ImageFile, "load", no_decoding)
        message = _expect_error(tmp_path / "a.png", "40x30", "limit", max_pixels=1000)
    assert "0.001 megapixels" in message
    assert load_image(tmp_path / "a.png", max_pixels=1200).size == (40, 30)


def test_zero_size_image(tmp_path: Path) -> None:
    (tmp_path / "zero.png").write_bytes(_png_bytes(0, 10))
    _expect_error(tmp_path / "zero.png")


def test_raise_pillow_limit_only_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    image_io.raise_pillow_limit(5000)
    assert 2 * Image.MAX_IMAGE_PIXELS >= 5000
    image_io.raise_pillow_limit(10)
    assert 2 * Image.MAX_IMAGE_PIXELS >= 5000


def test_parse_max_pixels() -> None:
    assert image_io.parse_max_pixels("2e8") == 200_000_000
    assert image_io.parse_max_pixels("1000") == 1000
    for bad in ("lots", "0", "-5", "inf", "nan"):
        with pytest.raises(ValueError):
            image_io.parse_max_pixels(bad)


# --- writing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp"])
def test_lossless_round_trip(tmp_path: Path, suffix: str) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    np.testing.assert_array_equal(load_image(save_image(tmp_path / f"x{suffix}", rgb)).rgb, rgb)


def test_webp_round_trip(tmp_path: Path) -> None:
    rgb = _halves(32, 16)
    loaded = load_image(save_image(tmp_path / "x.webp", rgb))
    assert loaded.format == "WEBP"
    assert np.abs(loaded.rgb[:, 2:12].astype(int) - RED).max() < 30


def test_red_stays_red_in_jpeg(tmp_path: Path) -> None:
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[:] = RED
    loaded = load_image(save_image(tmp_path / "red.jpeg", rgb))
    assert np.abs(loaded.rgb.astype(int) - RED).max() < 10


@pytest.mark.parametrize("suffix", [".png", ".webp", ".tiff"])
def test_alpha_kept_where_the_format_allows(tmp_path: Path, suffix: str) -> None:
    rgb = np.full((4, 4, 3), 120, np.uint8)
    alpha = np.zeros((4, 4), np.uint8)
    alpha[:2] = 255
    loaded = load_image(save_image(tmp_path / f"a{suffix}", rgb, alpha=alpha, quality=100))
    assert loaded.alpha is not None
    np.testing.assert_array_equal(loaded.alpha, alpha)


def test_jpeg_drops_alpha(tmp_path: Path) -> None:
    rgb = np.full((4, 4, 3), 120, np.uint8)
    loaded = load_image(save_image(tmp_path / "a.jpg", rgb, alpha=np.zeros((4, 4), np.uint8)))
    assert loaded.alpha is None


def test_exif_kept_in_jpeg(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    save_image(tmp_path / "e.jpg", np.zeros((4, 4, 3), np.uint8), exif=exif.tobytes())
    assert load_image(tmp_path / "e.jpg").exif is not None
    assert Image.open(tmp_path / "e.jpg").getexif()[ExifTags.Base.Make] == "TestCam"


def test_unknown_extension_lists_supported(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"\.gif.*supported: \.png, \.jpg"):
        save_image(tmp_path / "x.gif", np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ImageError, match="without extension"):
        save_image(tmp_path / "x", np.zeros((2, 2, 3), np.uint8))


def test_bad_pixels_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="uint8"):
        save_image(tmp_path / "x.png", np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ImageError, match="alpha"):
        save_image(tmp_path / "x.png", np.zeros((2, 2, 3), np.uint8), alpha=np.zeros((3, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_save_leaves_no_temp_files(tmp_path: Path) -> None:
    save_image(tmp_path / "a.png", np.zeros((8, 8, 3), np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_failed_save_removes_temp_file_and_keeps_old(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = save_image(tmp_path / "a.png", np.zeros((8, 8, 3), np.uint8))
    before = old.read_bytes()

    def broken_save(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        fp.write(b"half an image")  # type: ignore[union-attr]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(ImageError, match="No space left"):
        save_image(old, np.full((8, 8, 3), 255, np.uint8), overwrite=True)
    assert old.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_save_keeps_usual_file_permissions(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    umask = os.umask(0o022)
    os.umask(umask)
    path = save_image(tmp_path / "a.png", np.zeros((2, 2, 3), np.uint8))
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_overwrite_protection(tmp_path: Path) -> None:
    first = save_image(tmp_path / "a.png", np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ImageError, match="already exists"):
        save_image(first, np.full((2, 2, 3), 9, np.uint8))
    assert (load_image(first).rgb == 0).all()
    save_image(first, np.full((2, 2, 3), 9, np.uint8), overwrite=True)
    assert (load_image(first).rgb == 9).all()


def test_input_is_protected(tmp_path: Path) -> None:
    photo = save_image(tmp_path / "photo.png", np.zeros((2, 2, 3), np.uint8))
    same_file = tmp_path / "." / "photo.png"
    with pytest.raises(ImageError, match="input"):
        save_image(same_file, np.full((2, 2, 3), 9, np.uint8), protect=[photo])
    assert (load_image(photo).rgb == 0).all()


def test_missing_output_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="does not exist"):
        save_image(tmp_path / "no" / "a.png", np.zeros((2, 2, 3), np.uint8))


# --- masks ---------------------------------------------------------------------------------------


def test_mask_from_grey_is_non_zero(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 1, 128, 255]], np.uint8)).save(tmp_path / "m.png")
    mask = load_mask(tmp_path / "m.png")
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(mask, [[False, True, True, True]])


def test_mask_from_one_bit_and_16bit(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 1, 0]], bool)).save(tmp_path / "b.png")
    np.testing.assert_array_equal(load_mask(tmp_path / "b.png"), [[False, True, False]])
    Image.fromarray(np.array([[0, 1, 65535]], np.uint16)).save(tmp_path / "w.png")
    # A faint 16-bit mark (1/65535) would round to 0 in 8 bits; it still counts.
    np.testing.assert_array_equal(load_mask(tmp_path / "w.png"), [[False, True, True]])


def test_mask_from_rgb_is_any_channel(tmp_path: Path) -> None:
    rgb = np.array([[(0, 0, 0), (0, 0, 1), (255, 255, 255), (0, 40, 0)]], np.uint8)
    Image.fromarray(rgb).save(tmp_path / "m.png")
    np.testing.assert_array_equal(load_mask(tmp_path / "m.png"), [[False, True, True, True]])


def test_mask_from_rgba_needs_colour_and_opacity(tmp_path: Path) -> None:
    rgba = np.array([[(255, 255, 255, 0), (0, 0, 0, 255), (10, 0, 0, 255), (255, 255, 255, 1)]], np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "m.png")
    np.testing.assert_array_equal(load_mask(tmp_path / "m.png"), [[False, False, True, True]])


def test_mask_size_mismatch_names_both_sizes(tmp_path: Path) -> None:
    Image.new("L", (300, 200), 255).save(tmp_path / "m.png")
    with pytest.raises(ImageError) as info:
        load_mask(tmp_path / "m.png", size=(256, 256))
    assert "mask is 300x200 but the image is 256x256" in str(info.value)
    assert "m.png" in str(info.value)
    assert load_mask(tmp_path / "m.png", size=(300, 200)).all()


def test_mask_follows_exif_orientation_like_the_image(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 8
    m = np.zeros((10, 20), np.uint8)
    m[:, :5] = 255
    Image.fromarray(m).save(tmp_path / "m.jpg", exif=exif, quality=100)
    mask = load_mask(tmp_path / "m.jpg")
    assert mask.shape == (20, 10)
    assert mask[-3:].all() and not mask[:10].any()  # the stored left edge is the bottom after a 90° turn


def test_bad_mask_file(tmp_path: Path) -> None:
    (tmp_path / "m.png").write_bytes(b"nope" * 10)
    with pytest.raises(ImageError, match="not an image"):
        load_mask(tmp_path / "m.png")


def test_saving_over_a_linked_private_photo_keeps_the_link_and_its_mode(tmp_path):
    """Save over a symlinked, owner-only photo: the link stays a link, the photo stays 0600."""
    import stat

    real = tmp_path / "library" / "photo.png"
    real.parent.mkdir()
    save_image(real, np.zeros((8, 8, 3), np.uint8))
    real.chmod(0o600)
    link = tmp_path / "photo.png"
    link.symlink_to(real)
    save_image(link, np.full((8, 8, 3), 200, np.uint8), overwrite=True)
    assert link.is_symlink()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert load_image(real).rgb.min() == 200


@pytest.mark.parametrize("name, channels", [("rgb16.png", 3), ("grey16.png", 1), ("rgb16.tif", 3)])
def test_a_16_bit_file_is_read_as_8_bits_with_a_note(tmp_path, caplog, name: str, channels: int) -> None:
    """16 bits per channel used to become 8 without a word: the image says so, and so does the log."""
    import cv2

    deep = (np.random.default_rng(0).random((6, 9, channels)) * 65535).astype(np.uint16)
    cv2.imwrite(str(tmp_path / name), deep[..., 0] if channels == 1 else deep)
    with caplog.at_level("WARNING"):
        loaded = load_image(tmp_path / name)
    assert loaded.bits == 16 and "16-bit" in loaded.depth_note()
    assert "16 bits per channel" in caplog.text
    eight = tmp_path / "eight.png"
    cv2.imwrite(str(eight), (deep >> 8).astype(np.uint8))
    assert load_image(eight).bits == 8 and load_image(eight).depth_note() == ""
