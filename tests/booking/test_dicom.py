"""booking/imaging/dicom.py: reading and rendering DICOM without a database."""

import io

import numpy as np
import pytest
from django.utils import translation
from PIL import Image

from booking.imaging import dicom
from tests.booking.dicom_fixtures import (
    bundled,
    cr_monochrome1_dataset,
    ct_dataset,
    enhanced_mr_dataset,
    write,
)


@pytest.fixture(autouse=True)
def in_english():
    """The refusal reasons are checked in English; the default language is Danish."""
    with translation.override("en"):
        yield


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def test_ct_small_uses_its_window():
    result = dicom.render_file(bundled("CT_small.dcm"))
    assert result.info.modality == "CT"
    assert len(result.frames) == 1
    frame = result.frames[0]
    assert (frame.rows, frame.columns) == (128, 128)
    assert pixels(frame.preview).shape == (128, 128)
    assert max(Image.open(io.BytesIO(frame.thumbnail)).size) <= 160


@pytest.mark.parametrize(
    "name", ["MR_small_RLE.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm"]
)
def test_compressed_mr_matches_uncompressed(name):
    reference = pixels(dicom.render_file(bundled("MR_small.dcm")).frames[0].preview)
    compressed = pixels(dicom.render_file(bundled(name)).frames[0].preview)
    assert compressed.shape == reference.shape
    assert np.abs(compressed.astype(int) - reference.astype(int)).max() <= 1


@pytest.mark.parametrize("name", ["77654033/CR1/6154", "77654033/CR2/6247", "77654033/CR3/6278"])
def test_cd_crs_monochrome1(name):
    path = bundled(f"dicomdirtests/{name}")
    result = dicom.render_file(path)
    assert result.info.modality == "CR"
    assert result.info.photometric == "MONOCHROME1"
    assert result.frames[0].window_width


def test_monochrome1_is_inverted(tmp_path):
    path = write(cr_monochrome1_dataset(), tmp_path / "cr.dcm")
    image = pixels(dicom.render_file(path).frames[0].preview)
    # Stored values grow left to right; in MONOCHROME1 high means dark.
    assert image[:, 5].mean() > 200
    assert image[:, -5].mean() < 50


def test_ct_512_rescale_and_window(tmp_path):
    path = write(ct_dataset(512), tmp_path / "ct.dcm")
    frame = dicom.render_file(path).frames[0]
    assert (frame.window_center, frame.window_width) == (40.0, 400.0)
    image = pixels(frame.preview)
    assert image.shape == (512, 512)
    assert image[5, 5] == 0  # air (-1000 HU) below the window
    assert 100 < image[256, 100] < 160  # soft tissue (40 HU) mid-grey


def test_enhanced_mr_window_from_functional_groups(tmp_path):
    path = write(enhanced_mr_dataset(frames=4), tmp_path / "mr.dcm")
    result = dicom.render_file(path)
    assert [f.frame for f in result.frames] == [0, 1, 2, 3]
    for index, frame in enumerate(result.frames):
        assert frame.window_center == 2 * (100 * (index + 1) + 500)
        assert frame.window_width == 10
        image = pixels(frame.preview)
        assert image[:10].mean() == 255 and image[-10:].mean() == 0  # a narrow window


def test_multiframe_bundled_and_frame_sampling(settings):
    result = dicom.render_file(bundled("SC_rgb_rle_2frame.dcm"))
    assert len(result.frames) == 2
    assert pixels(result.frames[0].preview).shape[-1] == 3
    settings.DICOM_MAX_FRAMES = 5
    sampled = dicom.render_file(bundled("rtdose.dcm"))
    # Over the cap: an even sample with the first and last frames; not an error.
    assert [frame.frame for frame in sampled.frames] == [0, 4, 7, 11, 14]
    assert sampled.sampled_from == sampled.info.frames == 15
    assert sampled.skipped_frames == 0


def test_ybr_colour_becomes_rgb():
    result = dicom.render_file(bundled("SC_ybr_full_422_uncompressed.dcm"))
    assert pixels(result.frames[0].preview).ndim == 3


def test_percentile_stretch_without_window(tmp_path):
    ds = ct_dataset(64)
    del ds.WindowCenter
    del ds.WindowWidth
    frame = dicom.render_file(write(ds, tmp_path / "x.dcm")).frames[0]
    assert frame.window_center is not None and frame.window_width > 1
    image = pixels(frame.preview)
    assert image.min() == 0 and image.max() == 255


def test_truncated_file_refused():
    with pytest.raises(dicom.DicomError, match="could not be decoded"):
        dicom.render_file(bundled("MR_truncated.dcm"))


def test_lying_header_refused_before_decoding(tmp_path, monkeypatch):
    ds = ct_dataset(16)
    ds.Rows = ds.Columns = 60000
    path = write(ds, tmp_path / "liar.dcm")

    def never(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(dicom, "_decode_frame", never)
    with pytest.raises(dicom.DicomError, match="too large"):
        dicom.render_file(path)


def test_structured_report_refused():
    with pytest.raises(dicom.DicomError, match="no image"):
        dicom.render_file(bundled("test-SR.dcm"))


def test_dicomdir_is_recognised():
    _ds, info = dicom.read_header(bundled("dicomdirtests/DICOMDIR"))
    assert info.is_dicomdir


def test_presets_and_modality_map():
    keys = {p["key"]: (p["center"], p["width"]) for p in dicom.WINDOW_PRESETS}
    assert keys["lung"] == (-600, 1500) and keys["brain"] == (40, 80)
    assert dicom.modality_choice("DX") == "xray" and dicom.modality_choice("US") == ""
    assert dicom.parse_da("2024.03.15").isoformat() == "2024-03-15"
    assert dicom.parse_da("garbage") is None


def test_viewer_presets_render_the_same_frame_in_other_windows(tmp_path):
    path = write(ct_dataset(), tmp_path / "ct.dcm")
    bone = pixels(dicom.render_windowed(str(path), 0, 400, 1800))
    soft = pixels(dicom.render_windowed(str(path), 0, 40, 400))
    assert bone.shape == soft.shape == (512, 512)
    # A narrow soft-tissue window saturates more pixels than the wide bone window.
    assert (soft == 255).sum() > (bone == 255).sum()


def test_viewer_presets_work_on_compressed_files_too():
    plain = pixels(dicom.render_windowed(bundled("MR_small.dcm"), 0, 600, 1200))
    rle = pixels(dicom.render_windowed(bundled("MR_small_RLE.dcm"), 0, 600, 1200))
    assert np.array_equal(plain, rle)
