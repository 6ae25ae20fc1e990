"""booking/imaging/dicom.py for a clinical decision: true geometry, slice order, long clips,
per-frame caps, deflated files, and windows as the DICOM standard (PS3.3 C.11) says.

Windowing is checked against pydicom's own apply_modality_lut + apply_voi_lut, whose output
range (the stored range through the rescale) is scaled to 0..255 for the comparison.
"""

import copy
import io

import numpy as np
import pytest
from django.utils import translation
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from pydicom.sequence import Sequence

from booking.imaging import dicom
from booking.imaging.notes import Note
from tests.booking.clinical_fixtures import (
    AXIAL,
    BASIC_TEXT_SR,
    ENCAPSULATED_PDF,
    SAGITTAL,
    deflated_bytes,
    header,
    mono,
    png_chunks,
    positioned_stack,
    ramp,
    raw_values,
    rgb_clip,
    with_voi_lut,
)
from tests.booking.dicom_fixtures import bundled, ct_dataset, write

CT_CODES = ["soft_tissue", "bone", "lung", "brain", "spine"]


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def render(ds, tmp_path, name="image.dcm", **kwargs) -> dicom.RenderResult:
    return dicom.render_file(write(ds, tmp_path / name), **kwargs)


def header_of(ds, tmp_path) -> dicom.DicomInfo:
    return dicom.read_header(write(ds, tmp_path / "header.dcm"))[1]


def pydicom_grey(ds, center, width, function="LINEAR") -> np.ndarray:
    """pydicom's windowing of `ds` (on a copy with this window), scaled to 0..255."""
    values = apply_modality_lut(ds.pixel_array, ds)
    windowed = copy.deepcopy(ds)
    windowed.WindowCenter, windowed.WindowWidth = center, width
    windowed.VOILUTFunction = function
    if "VOILUTSequence" in windowed:
        del windowed.VOILUTSequence  # pydicom would prefer the LUT
    out = apply_voi_lut(values, windowed)
    bits = ds.BitsStored
    low, high = (
        (0, 2**bits - 1)
        if ds.PixelRepresentation == 0
        else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    )
    slope, intercept = float(ds.get("RescaleSlope", 1)), float(ds.get("RescaleIntercept", 0))
    y_min, y_max = low * slope + intercept, high * slope + intercept
    grey = (out - y_min) / (y_max - y_min) * 255
    return 255 - grey if ds.PhotometricInterpretation == "MONOCHROME1" else grey


def shown_in(frame: dicom.RenderedFrame, code: str) -> np.ndarray:
    """The frame as the viewer shows it in preset `code`: the preview or a rendition."""
    return pixels(frame.preview if code == frame.default_code else frame.renditions[code])


def assert_within_one_grey_level(ours: np.ndarray, reference: np.ndarray):
    assert ours.shape == reference.shape
    assert np.abs(ours.astype(float) - reference).max() <= 1


# --- True geometry ----------------------------------------------------------------------------


def test_non_square_pixels_are_shown_true_to_scale(tmp_path):
    """100 rows x 200 columns at 1.0 x 0.5 mm is 100 x 100 mm: a square image."""
    stored = np.zeros((100, 200))
    stored[25:75, 50:150] = 4000  # 50 mm x 50 mm: a square on the patient
    ds = mono(stored, "CR", PixelSpacing=[1.0, 0.5], WindowCenter="2000", WindowWidth="4000")
    result = render(ds, tmp_path, renditions=True)
    assert result.info.pixel_spacing == (1.0, 0.5) and result.info.aspect == 2.0
    frame = result.frames[0]
    preview = pixels(frame.preview)
    assert preview.shape == (200, 200)
    rows, columns = np.nonzero(preview > 128)
    height, width = rows.max() - rows.min() + 1, columns.max() - columns.min() + 1
    assert abs(height - width) <= 2 and 95 <= width <= 105  # a square stays square
    assert pixels(frame.raw).shape[:2] == (200, 200)
    assert all(pixels(png).shape == (200, 200) for png in frame.renditions.values())
    thumb = Image.open(io.BytesIO(frame.thumbnail))
    assert thumb.size == (160, 160)
    # The stored size is still the file's.
    assert (frame.rows, frame.columns) == (100, 200)


@pytest.mark.parametrize(
    ("tags", "spacing", "aspect"),
    [
        ({"ImagerPixelSpacing": [0.2, 0.1]}, (0.2, 0.1), 2.0),
        ({"PixelSpacing": [0.5, 1.0], "ImagerPixelSpacing": [0.2, 0.1]}, (0.5, 1.0), 0.5),
        ({"PixelAspectRatio": [2, 1]}, None, 2.0),
        ({"PixelAspectRatio": [1, 4]}, None, 0.25),
        ({"PixelAspectRatio": [100, 1]}, None, 1.0),  # outside 0.1 .. 10: damaged
        ({"PixelAspectRatio": [1, 0]}, None, 1.0),
        ({"PixelSpacing": [0, 0.5]}, None, 1.0),  # unusable: not a spacing
        ({"PixelSpacing": [0.3, 0.003]}, (0.3, 0.003), 1.0),  # 100:1 is not believed
        ({}, None, 1.0),
    ],
)
def test_aspect_from_each_source_of_spacing(tmp_path, tags, spacing, aspect):
    info = header_of(mono(np.zeros((8, 8)), "DX", **tags), tmp_path)
    assert info.pixel_spacing == spacing
    assert info.aspect == pytest.approx(aspect)


def test_aspect_from_the_functional_groups(tmp_path):
    ds = mono(np.zeros((2, 8, 16)), "MR")
    measures = Dataset()
    measures.PixelSpacing = [0.8, 0.4]
    shared = Dataset()
    shared.PixelMeasuresSequence = Sequence([measures])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    result = render(ds, tmp_path)
    assert result.info.pixel_spacing == (0.8, 0.4) and result.info.aspect == 2.0
    assert pixels(result.frames[0].preview).shape == (16, 16)


@pytest.mark.parametrize(
    ("rows", "columns", "aspect", "size"),
    [
        (100, 200, 2.0, (200, 200)),
        (200, 100, 0.5, (200, 200)),
        (512, 512, 1.0, (512, 512)),
        (1024, 1024, 2.0, (512, 1024)),  # enlarged, then the long side fitted to 1024
        (1000, 3000, 1.0, (1024, 341)),
        (1024, 1025, 1.0, (1024, 1023)),
    ],
)
def test_display_size_keeps_resolution_and_fits_1024(rows, columns, aspect, size):
    assert dicom.display_size(rows, columns, aspect) == size


# --- Slice order ------------------------------------------------------------------------------


def test_positions_along_the_normal_axial_and_sagittal(tmp_path):
    axial = mono(np.zeros((8, 8)), "CT", ImageOrientationPatient=AXIAL)
    axial.ImagePositionPatient = [-100.0, -120.0, -12.5]
    result = render(axial, tmp_path, "axial.dcm")
    assert result.info.normal == pytest.approx((0, 0, 1))
    assert result.frames[0].position == pytest.approx(-12.5)

    positions = []
    for x in (34.0, 33.0, 35.5):
        sagittal = mono(np.zeros((8, 8)), "MR", ImageOrientationPatient=SAGITTAL)
        sagittal.ImagePositionPatient = [x, -100.0, 90.0]
        result = render(sagittal, tmp_path, f"sag{x}.dcm")
        assert result.info.normal == pytest.approx((-1, 0, 0))
        positions.append(result.frames[0].position)
    # The normal points to -x: the slice at x = 35.5 comes first along it.
    assert positions == pytest.approx([-34.0, -33.0, -35.5])


def test_oblique_orientation_gives_a_unit_normal(tmp_path):
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    ds = mono(np.zeros((8, 8)), "CT", ImageOrientationPatient=[c, s, 0, -s, c, 0])
    ds.ImagePositionPatient = [3.0, 4.0, 7.25]
    result = render(ds, tmp_path)
    assert result.info.normal == pytest.approx((0, 0, 1))
    assert result.frames[0].position == pytest.approx(7.25)


def test_without_orientation_there_is_no_position(tmp_path):
    ds = mono(np.zeros((8, 8)), "CT", ImagePositionPatient=[0, 0, 5])
    result = render(ds, tmp_path)
    assert result.info.normal is None and result.frames[0].position is None
    broken = mono(np.zeros((8, 8)), "CT", ImageOrientationPatient=[1, 0, 0, 1, 0, 0])
    assert header_of(broken, tmp_path).normal is None  # parallel directions: no plane


def test_enhanced_stack_positions_and_acquisition_per_frame(tmp_path):
    result = render(positioned_stack(4), tmp_path)
    assert not result.info.is_clip and result.info.normal == pytest.approx((0, 0, 1))
    assert [f.position for f in result.frames] == pytest.approx([10, 12.5, 15, 17.5])
    assert [f.acquisition for f in result.frames] == [f"20240315101{i}00.250000" for i in range(4)]
    # Rescale and spacing come from the shared functional group.
    assert result.info.pixel_spacing == (0.5, 0.5)
    assert [round(f.raw_offset) for f in result.frames] == [-24, 76, 176, 276]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"AcquisitionDateTime": "20240315101112.5+0100"}, "20240315101112.500000"),
        ({"AcquisitionDate": "20240315", "AcquisitionTime": "0930"}, "20240315093000.000000"),
        ({"AcquisitionDate": "2024.03.15", "AcquisitionTime": "09:30:15"}, "20240315093015.000000"),
        ({"ContentDate": "20240316", "ContentTime": "120000.123"}, "20240316120000.123000"),
        ({"AcquisitionDate": "20240315", "ContentDate": "20240316"}, "20240315000000.000000"),
        ({"AcquisitionDateTime": "garbage", "ContentDate": "20240316"}, "20240316000000.000000"),
        ({"AcquisitionDate": "20241345"}, ""),
        ({}, ""),
    ],
)
@pytest.mark.filterwarnings("ignore:Invalid value for VR")  # old and broken forms, on purpose
def test_acquisition_time_is_sortable_text(tmp_path, tags, expected):
    assert header_of(mono(np.zeros((4, 4)), "CT", **tags), tmp_path).acquisition == expected


# --- Long clips and frame caps ----------------------------------------------------------------


def test_ultrasound_clip_800_x_600_of_90_frames_is_shown(tmp_path):
    """Refused before: rows x columns x 3 x frames counted against one cap."""
    result = render(rgb_clip(90, 600, 800, Modality="US"), tmp_path)
    assert result.info.is_clip and result.info.kind == "image"
    assert [f.frame for f in result.frames] == list(range(90))
    assert result.sampled_from == 0 and result.skipped_frames == 0
    last = pixels(result.frames[-1].preview)
    assert last.shape == (600, 800, 3) and (last == 89).all()
    frame = result.frames[0]
    assert frame.presets == [] and frame.default_code == "" and frame.raw is None
    assert frame.window_center is None and frame.renditions == {}


def test_long_clip_is_sampled_evenly_to_120_frames(tmp_path):
    result = render(rgb_clip(200, 16, 24), tmp_path)
    indices = [f.frame for f in result.frames]
    assert len(indices) == 120 and result.sampled_from == 200
    assert indices[0] == 0 and indices[-1] == 199
    steps = np.diff(indices)
    assert (steps >= 1).all() and set(steps) <= {1, 2}  # strictly increasing, evenly spread
    # Each preview is the frame it says it is (frame i is grey i).
    assert all((pixels(f.preview) == f.frame).all() for f in result.frames)
    assert result.skipped_frames == 0  # sampling is not an error


def test_clip_at_the_cap_is_not_sampled(tmp_path, settings):
    settings.DICOM_MAX_CLIP_FRAMES = 12
    assert len(render(rgb_clip(12, 8, 8), tmp_path, "at.dcm").frames) == 12
    over = render(rgb_clip(13, 8, 8), tmp_path, "over.dcm")
    assert [f.frame for f in over.frames] == [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12]
    assert over.sampled_from == 13


def test_stack_over_the_frame_cap_is_sampled_but_not_as_a_clip(tmp_path, settings):
    settings.DICOM_MAX_FRAMES = 10
    settings.DICOM_MAX_CLIP_FRAMES = 5
    stack = render(positioned_stack(25, size=8), tmp_path, "stack.dcm")
    assert not stack.info.is_clip
    assert [f.frame for f in stack.frames] == [0, 3, 5, 8, 11, 13, 16, 19, 21, 24]
    assert stack.sampled_from == 25
    assert [f.position for f in stack.frames] == pytest.approx(
        [10 + 2.5 * f.frame for f in stack.frames]
    )
    clip = render(rgb_clip(25, 8, 8), tmp_path, "clip.dcm")
    assert clip.info.is_clip and len(clip.frames) == 5 and clip.sampled_from == 25


def test_stack_within_the_frame_cap_is_whole(tmp_path, settings):
    settings.DICOM_MAX_FRAMES = 10
    result = render(positioned_stack(10, size=8), tmp_path)
    assert len(result.frames) == 10 and result.sampled_from == 0


def test_sample_frames_is_even_and_keeps_both_ends():
    assert dicom.sample_frames(5, 10) == [0, 1, 2, 3, 4]
    assert dicom.sample_frames(10, 1) == [0]
    for total, count in [(200, 120), (1001, 1000), (90, 89), (5000, 120), (3, 2)]:
        indices = dicom.sample_frames(total, count)
        assert len(indices) == count and indices[0] == 0 and indices[-1] == total - 1
        assert all(b > a for a, b in zip(indices, indices[1:], strict=False))


def _no_decoding(monkeypatch):
    calls = []
    monkeypatch.setattr(dicom, "_decode_frame", lambda *args, **kwargs: calls.append(1))
    return calls


def test_per_frame_cap_refuses_one_huge_frame_before_decoding(tmp_path, settings, monkeypatch):
    settings.DICOM_MAX_FRAME_PIXELS = 64 * 64
    calls = _no_decoding(monkeypatch)
    with pytest.raises(dicom.DicomError, match="too large") as refused:
        render(mono(np.zeros((64, 65)), "CT"), tmp_path)
    assert calls == []
    reason = refused.value.reason
    assert isinstance(reason, Note) and reason.params["columns"] == 65
    with pytest.raises(dicom.DicomError, match="too large"):
        dicom.check_decodable(
            dicom.DicomInfo(has_pixels=True, rows=64, columns=64, samples=3, bits_allocated=8)
        )


def test_per_frame_cap_accepts_many_small_frames(tmp_path, settings):
    settings.DICOM_MAX_FRAME_PIXELS = 64 * 64
    result = render(mono(np.zeros((50, 64, 64)), "MR"), tmp_path)  # 50 times the cap in all
    assert len(result.frames) == 50 and result.sampled_from == 0


def test_per_frame_cap_counts_samples_and_bytes():
    clip = dicom.DicomInfo(
        has_pixels=True, rows=600, columns=800, frames=90, samples=3, bits_allocated=8
    )
    clip.is_clip = True
    assert dicom.check_decodable(clip) == list(range(90))
    huge = dicom.DicomInfo(has_pixels=True, rows=8000, columns=7000, samples=1, bits_allocated=16)
    with pytest.raises(dicom.DicomError, match="too large"):
        dicom.check_decodable(huge)


# --- Deflated files ---------------------------------------------------------------------------


def test_deflated_file_is_previewed_like_the_plain_one(tmp_path):
    ds = ct_dataset(64)
    plain = render(ds, tmp_path, "plain.dcm", renditions=True).frames[0]
    path = tmp_path / "deflated.dcm"
    path.write_bytes(deflated_bytes(copy.deepcopy(ds)))
    result = dicom.render_file(path, renditions=True)
    assert result.info.transfer_syntax == "1.2.840.10008.1.2.1.99"
    frame = result.frames[0]
    assert np.array_equal(pixels(frame.preview), pixels(plain.preview))
    assert frame.renditions.keys() == plain.renditions.keys() and frame.raw == plain.raw


# --- Windows as the standard says -------------------------------------------------------------


def ct_with_rescale(slope: str, intercept: str) -> Dataset:
    stored = ramp(96, 96, 0, 4095)
    return mono(
        stored,
        "CT",
        RescaleSlope=slope,
        RescaleIntercept=intercept,
        WindowCenter="40",
        WindowWidth="400",
    )


@pytest.mark.parametrize(("slope", "intercept"), [("1", "-1024"), ("2", "-1024"), ("0.5", "-3")])
def test_every_ct_preset_matches_pydicom_with_rescale(tmp_path, slope, intercept):
    ds = ct_with_rescale(slope, intercept)
    frame = render(ds, tmp_path, renditions=True).frames[0]
    assert [p["code"] for p in frame.presets] == ["file1", *CT_CODES, "auto"]
    for preset in frame.presets:
        reference = pydicom_grey(ds, preset["center"], preset["width"], preset["function"])
        assert_within_one_grey_level(shown_in(frame, preset["code"]), reference)


def test_monochrome1_presets_match_pydicom_inverted(tmp_path):
    ds = mono(
        ramp(80, 80), "CR", photometric="MONOCHROME1", WindowCenter="1500", WindowWidth="1000"
    )
    frame = render(ds, tmp_path, renditions=True).frames[0]
    assert frame.invert and [p["code"] for p in frame.presets] == ["file1", "auto"]
    for preset in frame.presets:
        reference = pydicom_grey(ds, preset["center"], preset["width"])
        assert_within_one_grey_level(shown_in(frame, preset["code"]), reference)
    # High stored values are dark.
    preview = pixels(frame.preview)
    assert preview[0, 0] == 255 and preview[-1, -1] == 0


@pytest.mark.parametrize("function", ["SIGMOID", "LINEAR_EXACT"])
def test_sigmoid_and_linear_exact_match_pydicom(tmp_path, function):
    ds = ct_with_rescale("1", "-1024")
    ds.VOILUTFunction = function
    ds.WindowCenter, ds.WindowWidth = "100", "300"
    frame = render(ds, tmp_path).frames[0]
    assert frame.presets[0]["function"] == function and frame.default_code == "file1"
    assert_within_one_grey_level(pixels(frame.preview), pydicom_grey(ds, 100, 300, function))
    # The standard presets stay LINEAR.
    assert {p["function"] for p in frame.presets[1:]} == {"LINEAR"}


def test_voi_lut_is_applied_as_the_standard_says_not_stretched(tmp_path):
    """A 12-bit VOI LUT whose values reach only half its range: the image stays mid-grey."""
    stored = ramp(64, 64, 0, 1023)
    table = np.arange(1024) * 2047 // 1023  # 0 .. 2047 of 0 .. 4095
    ds = with_voi_lut(mono(stored, "DX", sop_class="1.2.840.10008.5.1.4.1.1.1.1"), table)
    result = render(ds, tmp_path, renditions=True)
    frame = result.frames[0]
    assert result.info.has_voi_lut
    assert [p["code"] for p in frame.presets] == ["lut", "auto"]
    assert frame.default_code == "lut" and frame.window_center is None
    expected = apply_voi_lut(ds.pixel_array, ds).astype(float) * 255 / 4095
    preview = pixels(frame.preview)
    assert_within_one_grey_level(preview, expected)
    assert preview.max() <= 128  # never re-stretched by percentiles
    # Only the automatic window is a rendition: the LUT is the preview itself.
    assert set(frame.renditions) == {"auto"}
    assert pixels(frame.renditions["auto"]).max() == 255


def test_voi_lut_of_monochrome1_is_inverted(tmp_path):
    table = np.arange(256)
    ds = with_voi_lut(mono(ramp(32, 32, 0, 255), "CR", photometric="MONOCHROME1"), table, bits=8)
    preview = pixels(render(ds, tmp_path).frames[0].preview)
    assert_within_one_grey_level(preview, 255 - apply_voi_lut(ds.pixel_array, ds).astype(float))


def test_a_window_wins_over_a_voi_lut(tmp_path):
    ds = with_voi_lut(mono(ramp(32, 32), "DX"), np.arange(4096))
    ds.WindowCenter, ds.WindowWidth = "1000", "500"
    frame = render(ds, tmp_path).frames[0]
    assert [p["code"] for p in frame.presets] == ["file1", "auto"]
    assert_within_one_grey_level(pixels(frame.preview), pydicom_grey(ds, 1000, 500))


def test_apply_window_boundaries():
    values = np.array([-160.0, -159.9, 39.5, 40.0, 238.9, 239.0, 239.1], np.float32)
    linear = dicom.apply_window(values, 40, 400, "LINEAR")
    assert linear[0] == 0 and linear[1] == 0 and linear[-2] == 255 and linear[-1] == 255
    assert linear[2] == 128 and linear[3] == 128  # (0 or 0.5) / 399 + 0.5 of 255, rounded
    exact = dicom.apply_window(
        np.array([-160, -159, 40, 240, 241], np.float32), 40, 400, "LINEAR_EXACT"
    )
    assert exact.tolist() == [0, 1, 128, 255, 255]
    sigmoid = dicom.apply_window(np.array([-1e6, 40, 1e6], np.float32), 40, 400, "SIGMOID")
    assert sigmoid.tolist() == [0, 128, 255]
    # Width 1 in LINEAR is a threshold at center - 0.5.
    threshold = dicom.apply_window(np.array([99.5, 99.51, 100], np.float32), 100, 1, "LINEAR")
    assert threshold.tolist() == [0, 255, 255]
    for function, width in [("LINEAR", 0.5), ("LINEAR_EXACT", 0), ("SIGMOID", -1)]:
        with pytest.raises(ValueError):
            dicom.apply_window(values, 40, width, function)


# --- Presets per modality ---------------------------------------------------------------------


def test_ct_has_its_windows_then_hounsfield_presets_then_auto(tmp_path):
    frame = render(ct_dataset(64), tmp_path, renditions=True).frames[0]
    codes = [p["code"] for p in frame.presets]
    assert codes == ["file1", *CT_CODES, "auto"]
    assert frame.default_code == "file1"
    assert (frame.window_center, frame.window_width) == (40.0, 400.0)
    assert frame.presets[0]["label"] == "Window from the file"
    assert frame.presets[-1]["label"] == "Automatic"
    assert all(type(p["label"]) is str for p in frame.presets)  # plain text, stored as JSON
    bone = next(p for p in frame.presets if p["code"] == "bone")
    assert (bone["center"], bone["width"], bone["function"]) == (400.0, 1800.0, "LINEAR")
    assert set(frame.renditions) == set(codes) - {"file1"}


def test_mr_gets_its_own_windows_and_auto_but_no_hounsfield_presets(tmp_path):
    ds = mono(ramp(64, 64, 0, 2000), "MR")
    ds.WindowCenter = [600, 1200, 50]
    ds.WindowWidth = [1200, 800, 0]  # a zero width is not a window
    ds.WindowCenterWidthExplanation = ["T2 soft", "T2 wide", "broken"]
    frame = render(ds, tmp_path, renditions=True).frames[0]
    assert [(p["code"], p["label"], p["center"], p["width"]) for p in frame.presets[:2]] == [
        ("file1", "T2 soft", 600.0, 1200.0),
        ("file2", "T2 wide", 1200.0, 800.0),
    ]
    assert [p["code"] for p in frame.presets] == ["file1", "file2", "auto"]
    assert set(frame.renditions) == {"file2", "auto"}


def test_windows_without_explanation_are_numbered(tmp_path):
    ds = mono(ramp(), "MR", WindowCenter=[100, 200], WindowWidth=[50, 60])
    info = header_of(ds, tmp_path)
    assert info.windows == [(100.0, 50.0, ""), (200.0, 60.0, "")]
    frame = render(ds, tmp_path).frames[0]
    assert [p["label"] for p in frame.presets[:2]] == [
        "Window 1 from the file",
        "Window 2 from the file",
    ]


def test_radiograph_without_window_gets_auto_only(tmp_path):
    frame = render(mono(ramp(), "CR"), tmp_path, renditions=True).frames[0]
    assert [p["code"] for p in frame.presets] == ["auto"]
    assert frame.default_code == "auto" and frame.renditions == {}
    preview = pixels(frame.preview)
    assert preview.min() == 0 and preview.max() == 255


def test_enhanced_mr_presets_come_from_each_frame(tmp_path):
    from tests.booking.dicom_fixtures import enhanced_mr_dataset

    result = render(enhanced_mr_dataset(frames=3), tmp_path)
    assert [f.presets[0]["center"] for f in result.frames] == [1200.0, 1400.0, 1600.0]
    assert all([p["code"] for p in f.presets] == ["file1", "auto"] for f in result.frames)


def test_colour_images_get_no_presets(tmp_path):
    result = dicom.render_file(bundled("SC_rgb_rle_2frame.dcm"), renditions=True)
    for frame in result.frames:
        assert frame.presets == [] and frame.default_code == "" and frame.renditions == {}
        assert frame.raw is None and not frame.invert
    with pytest.raises(dicom.DicomError, match="monochrome images only"):
        dicom.render_windowed(bundled("SC_rgb_rle_2frame.dcm"), 0, 40, 400)


@pytest.mark.parametrize(("has_window", "code"), [(True, "file1"), (False, "auto")])
def test_preview_is_the_default_preset(tmp_path, has_window, code):
    """The highlighted preset is the one shown: the preview equals its own rendering."""
    ds = ct_with_rescale("1", "-1024")
    if not has_window:
        del ds.WindowCenter, ds.WindowWidth
    path = write(ds, tmp_path / "ct.dcm")
    frame = dicom.render_file(path, renditions=True).frames[0]
    assert frame.default_code == code and code not in frame.renditions
    chosen = next(p for p in frame.presets if p["code"] == code)
    assert (frame.window_center, frame.window_width) == (chosen["center"], chosen["width"])
    again = dicom.render_windowed(path, 0, chosen["center"], chosen["width"], chosen["function"])
    assert np.array_equal(pixels(frame.preview), pixels(again))
    # ... and differs from the image of every preset with another window.
    others = [p["code"] for p in frame.presets if p["center"] != chosen["center"]]
    assert others and all(
        not np.array_equal(pixels(frame.preview), pixels(frame.renditions[c])) for c in others
    )


def test_renditions_equal_render_windowed(tmp_path):
    ds = mono(ramp(100, 200), "CT", photometric="MONOCHROME1", PixelSpacing=[1.0, 0.5])
    ds.RescaleSlope, ds.RescaleIntercept = "2", "-1024"
    ds.WindowCenter, ds.WindowWidth = "1000", "2000"
    path = write(ds, tmp_path / "ct.dcm")
    frame = dicom.render_file(path, renditions=True).frames[0]
    assert len(frame.renditions) == 6
    for preset in frame.presets:
        if preset["code"] == frame.default_code:
            continue
        windowed = dicom.render_windowed(
            path, 0, preset["center"], preset["width"], preset["function"]
        )
        assert windowed == frame.renditions[preset["code"]]
    assert dicom.render_file(path).frames[0].renditions == {}  # only when asked


def test_render_windowed_refuses_a_frame_that_is_not_there(tmp_path):
    path = write(ct_dataset(16), tmp_path / "ct.dcm")
    with pytest.raises(dicom.DicomError, match="no such frame"):
        dicom.render_windowed(path, 1, 40, 400)


# --- Raw values for the free window ----------------------------------------------------------


def test_raw_carries_the_exact_modality_values(tmp_path):
    ds = ct_dataset(64)
    frame = render(ds, tmp_path).frames[0]
    assert png_chunks(frame.raw) == [b"IHDR", b"IDAT", b"IEND"]
    assert Image.open(io.BytesIO(frame.raw)).mode == "RGB"
    expected = apply_modality_lut(ds.pixel_array, ds)
    assert frame.raw_scale == 1.0 and frame.raw_offset == expected.min()
    assert np.array_equal(raw_values(frame.raw, frame.raw_offset, frame.raw_scale), expected)


def test_raw_of_signed_data_with_slope_two_is_exact(tmp_path):
    stored = ramp(48, 48, -2000, 2000)
    ds = mono(stored, "CT", signed=True, bits_stored=16, RescaleSlope="2", RescaleIntercept="-5")
    frame = render(ds, tmp_path).frames[0]
    expected = apply_modality_lut(ds.pixel_array, ds)
    assert frame.raw_offset == -4005 and frame.raw_scale == 1.0
    assert np.array_equal(raw_values(frame.raw, frame.raw_offset, frame.raw_scale), expected)


def test_raw_of_a_wide_range_is_scaled_within_half_a_step(tmp_path):
    stored = ramp(48, 48, 0, 200_000)
    ds = mono(stored, "MR")
    ds.PixelData = stored.astype(np.uint32).tobytes()
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 32, 32, 31
    frame = render(ds, tmp_path).frames[0]
    assert frame.raw_scale == pytest.approx(200_000 / 65535)
    error = np.abs(raw_values(frame.raw, frame.raw_offset, frame.raw_scale) - stored)
    assert error.max() <= frame.raw_scale / 2 + 1e-6


def test_every_png_has_no_ancillary_chunks(tmp_path):
    frame = render(ct_dataset(32), tmp_path, renditions=True).frames[0]
    for data in [frame.preview, frame.raw, *frame.renditions.values()]:
        assert png_chunks(data) == [b"IHDR", b"IDAT", b"IEND"]


# --- What the header says ---------------------------------------------------------------------


def test_kind_of_each_dicom_file(tmp_path):
    assert dicom.read_header(bundled("test-SR.dcm"))[1].kind == "sr"
    assert dicom.read_header(bundled("dicomdirtests/DICOMDIR"))[1].kind == "dicomdir"
    assert header_of(ct_dataset(8), tmp_path).kind == "image"
    pdf = header(ENCAPSULATED_PDF, "DOC", MIMETypeOfEncapsulatedDocument="application/pdf")
    pdf.EncapsulatedDocument = b"%PDF-1.4\n%%EOF\n"
    info = header_of(pdf, tmp_path)
    assert (info.kind, info.sop_class) == ("pdf", ENCAPSULATED_PDF)
    assert header_of(header(BASIC_TEXT_SR, "SR"), tmp_path).kind == "sr"
    assert header_of(header("1.2.840.10008.5.1.4.1.1.481.3", "RTSTRUCT"), tmp_path).kind == "other"


def test_header_of_an_image_travels_between_processes(tmp_path):
    import pickle

    ds = mono(ramp(), "MR", WindowCenter=[1, 2], WindowWidth=[3, 4], VOILUTFunction="SIGMOID")
    info = header_of(ds, tmp_path)
    copy_ = pickle.loads(pickle.dumps(info))
    assert copy_.windows == [(1.0, 3.0, ""), (2.0, 4.0, "")] and copy_.voi_function == "SIGMOID"


def test_unknown_voi_function_reads_as_linear(tmp_path):
    ds = mono(ramp(), "MR", WindowCenter="1000", WindowWidth="500", VOILUTFunction="CUBIC")
    assert header_of(ds, tmp_path).voi_function == "LINEAR"


def test_bundled_files_render_with_their_presets():
    ct = dicom.render_file(bundled("CT_small.dcm"), renditions=True).frames[0]
    assert [p["code"] for p in ct.presets] == [*CT_CODES, "auto"]  # it states no window
    assert ct.default_code == "auto" and set(ct.renditions) == set(CT_CODES)
    assert ct.position == pytest.approx(-75.7)
    mr = dicom.render_file(bundled("MR_small.dcm"), renditions=True).frames[0]
    assert [p["code"] for p in mr.presets] == ["file1", "auto"]
    assert (mr.window_center, mr.window_width) == (600.0, 1600.0)
