"""BEAM-DIMAP reading and conversion of SNAP interferograms to the canonical HDF5.

Two kinds of input, both real formats:

* the real BEAM-DIMAP product written by ESA's toolbox in ``tests/fixtures/snap/`` (MERIS FR
  subset): big-endian ENVI bands with scaling, and tie-point grids whose offsets/steps are
  checked against the product's own metadata (``history/SubsetInfo``, ``SPH``);
* a DIMAP laid out as SNAP's InterferogramOp/TOPSAR-Deburst write it (bands
  ``i_ifg_VV_<ref>_<sec>``, ``q_ifg_...``, ``coh_IW2_VV_...``, a virtual ``Phase_ifg`` band,
  tie-point grids ``latitude``/``longitude``/``incident_angle``, ``Abstracted_Metadata``),
  built here by :func:`write_snap_ifg_dimap`, our own small ENVI/DIMAP writer (independent of
  the reader under test). SNAP itself cannot run here.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pytest

from quakesar.geodesy import haversine_m
from quakesar.interferogram.canonical import read_interferogram, write_interferogram
from quakesar.interferogram.snap.convert import dimap_to_interferogram, find_ifg_bands, snap_time_to_iso
from quakesar.interferogram.snap.dimap import read_dimap, tie_point_pixel_coords
from quakesar.interferogram.snap.envi import read_header, read_raster

FIXTURES = Path(__file__).parent / "fixtures" / "snap"
MERIS = FIXTURES / "MER_FRS_L1B_SUBSET.dim"


# --------------------------------------------------------------------------- our own DIMAP writer
def _write_envi(stem: Path, array: np.ndarray, description: str) -> None:
    """One single-band ENVI pair as SNAP writes it: big-endian raw ``.img`` + text ``.hdr``."""
    codes = {np.dtype("float32"): 4, np.dtype("float64"): 5, np.dtype("int16"): 2, np.dtype("uint16"): 12}
    stem.parent.mkdir(parents=True, exist_ok=True)
    array.astype(array.dtype.newbyteorder(">")).tofile(stem.with_suffix(".img"))
    stem.with_suffix(".hdr").write_text(
        "ENVI\n"
        f"description = {{{description}}}\n"
        f"samples = {array.shape[1]}\nlines = {array.shape[0]}\nbands = 1\nheader offset = 0\n"
        "file type = ENVI Standard\n"
        f"data type = {codes[array.dtype]}\ninterleave = bsq\nbyte order = 1\n"
        f"band names = {{ {stem.name} }}\n"
        "data gain values = {1.0}\ndata offset values = {0.0}\n")


def write_snap_ifg_dimap(dim: Path, i: np.ndarray, q: np.ndarray, coh: np.ndarray,
                         grids: dict[str, np.ndarray], offset: tuple[float, float], step: tuple[float, float],
                         abstracted: dict[str, str], slave_first_line_time: str | None,
                         tag: str = "VV_06Apr2025_18Apr2025", swath: str = "IW2") -> None:
    """Write a DIMAP with SNAP's interferogram band layout (``offset``/``step`` as (x, y))."""
    data = dim.with_suffix(".data")
    bands = [(f"i_ifg_{tag}", i, "real"), (f"q_ifg_{tag}", q, "imaginary"), (f"coh_{swath}_{tag}", coh, "coherence")]
    for name, arr, _ in bands:
        _write_envi(data / name, arr.astype(np.float32), name)
    for name, arr in grids.items():
        _write_envi(data / "tie_point_grids" / name, arr.astype(np.float32), name)
    files = "".join(f'<Data_File><DATA_FILE_PATH href="{data.name}/{n}.hdr" /><BAND_INDEX>{k}</BAND_INDEX></Data_File>'
                    for k, (n, _, _) in enumerate(bands))
    files += "".join(f'<Tie_Point_Grid_File><TIE_POINT_GRID_FILE_PATH href="{data.name}/tie_point_grids/{n}.hdr" />'
                     f"<TIE_POINT_GRID_INDEX>{k}</TIE_POINT_GRID_INDEX></Tie_Point_Grid_File>"
                     for k, n in enumerate(grids))
    infos = "".join(
        f"<Spectral_Band_Info><BAND_INDEX>{k}</BAND_INDEX><BAND_NAME>{n}</BAND_NAME><DATA_TYPE>float32</DATA_TYPE>"
        f"<PHYSICAL_UNIT>{u}</PHYSICAL_UNIT><SCALING_FACTOR>1.0</SCALING_FACTOR><SCALING_OFFSET>0.0</SCALING_OFFSET>"
        f"<NO_DATA_VALUE_USED>true</NO_DATA_VALUE_USED><NO_DATA_VALUE>0.0</NO_DATA_VALUE></Spectral_Band_Info>"
        for k, (n, _, u) in enumerate(bands))
    infos += (f"<Spectral_Band_Info><BAND_INDEX>{len(bands)}</BAND_INDEX><BAND_NAME>Phase_ifg_{tag}</BAND_NAME>"
              "<DATA_TYPE>float32</DATA_TYPE><PHYSICAL_UNIT>phase</PHYSICAL_UNIT><VIRTUAL_BAND>true</VIRTUAL_BAND>"
              f"<EXPRESSION>atan2(q_ifg_{tag}, i_ifg_{tag})</EXPRESSION></Spectral_Band_Info>")
    grid_infos = "".join(
        f"<Tie_Point_Grid_Info><TIE_POINT_GRID_INDEX>{k}</TIE_POINT_GRID_INDEX><TIE_POINT_GRID_NAME>{n}"
        f"</TIE_POINT_GRID_NAME><DATA_TYPE>float32</DATA_TYPE><NCOLS>{a.shape[1]}</NCOLS><NROWS>{a.shape[0]}</NROWS>"
        f"<OFFSET_X>{offset[0]}</OFFSET_X><OFFSET_Y>{offset[1]}</OFFSET_Y><STEP_X>{step[0]}</STEP_X>"
        f"<STEP_Y>{step[1]}</STEP_Y><CYCLIC>false</CYCLIC></Tie_Point_Grid_Info>"
        for k, (n, a) in enumerate(grids.items()))
    am = "".join(f'<MDATTR name="{escape(k)}" type="ascii">{escape(v)}</MDATTR>' for k, v in abstracted.items())
    slave = ""
    if slave_first_line_time:
        slave = ('<MDElem name="Slave_Metadata"><MDElem name="S1A_IW_SLC__1SDV_20250418_Orb_Stack">'
                 f'<MDATTR name="first_line_time" type="utc">{slave_first_line_time}</MDATTR></MDElem></MDElem>')
    dim.write_text(
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        f'<Dimap_Document name="{dim.name}"><Metadata_Id><METADATA_FORMAT version="2.12.1">DIMAP</METADATA_FORMAT>'
        "</Metadata_Id>"
        f"<Dataset_Id><DATASET_NAME>{dim.stem}</DATASET_NAME></Dataset_Id>"
        "<Production><PRODUCT_TYPE>SLC</PRODUCT_TYPE></Production>"
        f"<Raster_Dimensions><NCOLS>{i.shape[1]}</NCOLS><NROWS>{i.shape[0]}</NROWS><NBANDS>{len(bands) + 1}</NBANDS>"
        "</Raster_Dimensions>"
        f"<Data_Access><DATA_FILE_FORMAT>ENVI</DATA_FILE_FORMAT>{files}</Data_Access>"
        f"<Tie_Point_Grids><NUM_TIE_POINT_GRIDS>{len(grids)}</NUM_TIE_POINT_GRIDS>{grid_infos}</Tie_Point_Grids>"
        f"<Image_Interpretation>{infos}</Image_Interpretation>"
        f'<Dataset_Sources><MDElem name="metadata"><MDElem name="Abstracted_Metadata">{am}</MDElem>{slave}'
        '<MDElem name="Processing_Graph" /></MDElem></Dataset_Sources></Dimap_Document>\n',
        encoding="latin-1")


ABSTRACTED = {
    "PRODUCT": "S1A_IW_SLC__1SDV_20250406T022008_20250406T022035_058630_07421F_93A7",
    "MISSION": "SENTINEL-1A", "ACQUISITION_MODE": "IW", "PASS": "ASCENDING", "REL_ORBIT": "108",
    "first_line_time": "06-APR-2025 02:20:10.484339", "radar_frequency": "5405.000454334349",
    "range_spacing": "2.329562", "azimuth_spacing": "13.968", "range_looks": "1", "azimuth_looks": "1",
    "centre_heading": "347.9",
}


def _scene(rows: int = 60, cols: int = 90, seed: int = 4):
    rng = np.random.default_rng(seed)
    rr, cc = np.mgrid[0:rows, 0:cols].astype(np.float64)
    phase = 0.2 * cc - 0.05 * rr + 1.0
    amp = rng.uniform(0.5, 3.0, size=(rows, cols))
    i, q = (amp * np.cos(phase)).astype(np.float32), (amp * np.sin(phase)).astype(np.float32)
    coh = rng.uniform(0.05, 0.99, size=(rows, cols)).astype(np.float32)
    i[:3, :] = 0.0  # SNAP's no-data rows (outside the DEM / between bursts)
    q[:3, :] = 0.0
    coh[:3, :] = 0.0
    step = (10.0, 12.0)
    ny, nx = int(math.ceil((rows - 1) / step[1])) + 1, int(math.ceil((cols - 1) / step[0])) + 1
    ty, tx = np.mgrid[0:ny, 0:nx].astype(np.float64)
    grids = {"latitude": 52.0 + 0.001 * ty * step[1] + 0.0002 * tx * step[0],
             "longitude": -128.0 - 0.0003 * ty * step[1] + 0.002 * tx * step[0],
             "incident_angle": 30.0 + 0.01 * tx * step[0]}
    return i, q, coh, grids, step


# --------------------------------------------------------------------------- the real product
def test_envi_header_and_big_endian_raster_of_real_product() -> None:
    hdr = read_header(FIXTURES / "MER_FRS_L1B_SUBSET.data" / "radiance_1.hdr")
    assert (hdr.samples, hdr.lines, hdr.bands, hdr.data_type, hdr.byte_order) == (221, 184, 1, 12, 1)
    assert hdr.dtype == np.dtype(">u2")
    assert hdr.band_names == ("radiance_1",)
    raw = read_raster(hdr)
    direct = np.fromfile(hdr.image_path, dtype=">u2").reshape(184, 221)
    np.testing.assert_array_equal(raw, direct)
    little = np.fromfile(hdr.image_path, dtype="<u2").reshape(184, 221)
    assert not np.array_equal(raw.astype(np.int64), little.astype(np.int64))  # the byte order matters


def test_real_dimap_bands_scaling_and_structure() -> None:
    p = read_dimap(MERIS)
    assert (p.width, p.height) == (221, 184)
    assert len(p.bands) == 17 and len(p.tie_point_grids) == 15
    assert p.product_type == "MER_FRS_1P"
    band = p.bands["radiance_1"]
    assert band.scaling_factor == pytest.approx(0.009474839083850384)
    raw = np.fromfile(FIXTURES / "MER_FRS_L1B_SUBSET.data" / "radiance_1.img", dtype=">u2").reshape(184, 221)
    np.testing.assert_allclose(p.read_band("radiance_1"), raw * np.float32(band.scaling_factor), rtol=1e-6)
    # TOA radiance at 412 nm over land/sea: tens of mW/(m^2 sr nm), never negative
    assert 10.0 < float(np.nanmean(p.read_band("radiance_1"))) < 200.0
    assert p.read_band("detector_index", rows=slice(0, 2), cols=slice(0, 3)).shape == (2, 3)
    with pytest.raises(KeyError, match="radiance_99"):
        p.read_band("radiance_99")


def test_real_tie_point_grids_match_the_products_own_metadata() -> None:
    """Offsets/steps from the .dim reproduce the full product's tie-point lattice (SPH, SubsetInfo)."""
    p = read_dimap(MERIS)
    subset = p.metadata.find("SubsetInfo")
    sph = p.metadata.find("SPH")
    assert subset is not None and sph is not None
    x0, y0 = int(subset.get("SubRegion.x")), int(subset.get("SubRegion.y"))
    per_x, per_y = int(sph.get("SAMPLES_PER_TIE_PT")), int(sph.get("LINES_PER_TIE_PT"))
    info = p.tie_point_grids["latitude"]
    assert (info.step_x, info.step_y) == (per_x, per_y) == (64, 64)
    lat, rows, cols = p.read_tie_point_grid("latitude")
    lon, rows2, cols2 = p.read_tie_point_grid("longitude")
    np.testing.assert_array_equal(rows, rows2)
    assert lat.shape == (5, 6)
    # nodes sit on full-product pixel centres every 64 pixels: subset col + x0 is a multiple of 64
    np.testing.assert_array_equal((cols + x0) % per_x, 0)
    np.testing.assert_array_equal((rows + y0) % per_y, 0)
    np.testing.assert_array_equal(cols, [-17, 47, 111, 175, 239, 303])
    np.testing.assert_array_equal(rows, [-52, 12, 76, 140, 204])
    # the grid covers the raster (first node before pixel 0, last beyond the last pixel)
    assert rows[0] <= 0 and rows[-1] >= p.height - 1 and cols[0] <= 0 and cols[-1] >= p.width - 1
    # latitudes lie between the full product's last-line and first-line corner latitudes (SPH, 1e-6 deg)
    corners = [int(sph.get(k)) * 1e-6 for k in ("FIRST_FIRST_LAT", "FIRST_MID_LAT", "FIRST_LAST_LAT",
                                                  "LAST_FIRST_LAT", "LAST_MID_LAT", "LAST_LAST_LAT")]
    assert min(corners) < lat.min() and lat.max() < max(corners)
    # first-line latitudes are north of last-line ones (descending), so are rows of the subset
    assert np.all(np.diff(lat, axis=0) < 0)
    # node spacing across track / 64 = MERIS FR column spacing (SPH COLUMN_SPACING 260 m), within 10 %
    d = haversine_m(lat[:, :-1], lon[:, :-1], lat[:, 1:], lon[:, 1:]) / per_x
    assert np.all(np.abs(d / float(sph.get("COLUMN_SPACING")) - 1.0) < 0.10)
    # and the subset starts SubRegion.y lines (LINE_TIME_INTERVAL, 1e-6 s) after the full product
    dt = (np.datetime64("2007-07-09T11:14:55.493954") - np.datetime64("2007-07-09T11:14:19.416414")) / np.timedelta64(1, "us")
    assert dt * 1e-6 == pytest.approx(y0 * int(sph.get("LINE_TIME_INTERVAL")) * 1e-6, abs=0.05)
    assert p.start_time.startswith("09-JUL-2007 11:14:55")


def test_tie_point_node_positions_follow_how_snap_sampled_them() -> None:
    from quakesar.interferogram.snap.dimap import TiePointGridInfo

    def info(off: float, step: float, n: int) -> TiePointGridInfo:
        return TiePointGridInfo("latitude", 0, n, n, off, off, step, step, False, "deg", Path("x.hdr"))

    # SNAP 14 TOPSAR-Deburst: 21 nodes, step = width / 20, offset 0, last node sampled at width - 1
    rows, cols = tie_point_pixel_coords(info(0.0, 1000 / 20, 21), (1000, 1000))
    assert cols[0] == 0 and cols[1] == 50 and cols[-1] == 999 and rows[-1] == 999
    # SNAP 9 TOPSAR-Deburst: integer step width // 20, last node inside the raster, unchanged
    rows, cols = tie_point_pixel_coords(info(0.0, 1013 // 20, 21), (1013, 1013))
    assert cols[-1] == 20 * 50 == 1000
    # reader grid (offset 0.5): pixel-corner image coordinates, never clamped
    rows, cols = tie_point_pixel_coords(info(0.5, 100.0, 11), (1000, 1000))
    assert cols[0] == 0 and cols[-1] == 1000
    with pytest.raises(ValueError, match="collapse"):
        tie_point_pixel_coords(info(0.0, 600.0, 4), (1000, 1000))


def test_real_product_is_not_an_interferogram(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="i_ifg"):
        find_ifg_bands(read_dimap(MERIS))


def test_dimap_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing.dim"):
        read_dimap(tmp_path / "nothing.dim")
    bad = tmp_path / "bad.dim"
    bad.write_text("<Dimap_Document><Raster_Dimensions><NCOLS>x</NCOLS></Raster_Dimensions></Dimap_Document>")
    with pytest.raises(ValueError, match="bad.dim.*NCOLS"):
        read_dimap(bad)
    # a truncated band image is reported with its size
    shutil.copytree(FIXTURES / "MER_FRS_L1B_SUBSET.data", tmp_path / "MER_FRS_L1B_SUBSET.data")
    shutil.copy(MERIS, tmp_path / "MER_FRS_L1B_SUBSET.dim")
    img = tmp_path / "MER_FRS_L1B_SUBSET.data" / "radiance_2.img"
    img.chmod(0o644)
    img.write_bytes(img.read_bytes()[:1000])
    with pytest.raises(ValueError, match="radiance_2.img: 1000 bytes"):
        read_dimap(tmp_path / "MER_FRS_L1B_SUBSET.dim").read_band("radiance_2")


# --------------------------------------------------------------------------- SNAP interferogram layout
def test_snap_time_to_iso() -> None:
    assert snap_time_to_iso("06-APR-2025 02:20:10.484339") == "2025-04-06T02:20:10.484339Z"
    with pytest.raises(ValueError, match="dd-MMM-yyyy"):
        snap_time_to_iso("2025-04-06")


@pytest.mark.parametrize("offset,origin", [
    ((0.0, 0.0), (0.0, 0.0)),    # TOPSAR-Deburst / Multilook: node i computed at pixel index i*step
    ((0.5, 0.5), (0.0, 0.0)),    # SNAP readers: node on the centre of pixel 0 in pixel-corner coordinates
    ((2.0, 3.0), (3.0, 2.0)),    # integral offsets index pixels (origin is (row, col))
    ((-4.5, 6.5), (6.0, -5.0)),  # half-integral offsets are pixel-corner coordinates (like the MERIS subset)
])
def test_snap_ifg_dimap_round_trip_to_canonical_hdf5(tmp_path: Path, offset: tuple[float, float],
                                                     origin: tuple[float, float]) -> None:
    i, q, coh, grids, step = _scene()
    dim = tmp_path / "us7000test_IW2.dim"
    write_snap_ifg_dimap(dim, i, q, coh, grids, offset, step, ABSTRACTED, "18-APR-2025 02:20:10.512000")
    product = read_dimap(dim)
    assert "Phase_ifg_VV_06Apr2025_18Apr2025" in product.bands  # the virtual band is indexed but has no file
    assert find_ifg_bands(product) == ("i_ifg_VV_06Apr2025_18Apr2025", "q_ifg_VV_06Apr2025_18Apr2025",
                                       "coh_IW2_VV_06Apr2025_18Apr2025")
    event = {"id": "us7000test"}
    pair = {"reference": {"start_time": "2000-01-01T00:00:00Z"}, "secondary": {"start_time": "2000-01-13T00:00:00Z"},
            "track": 1, "flight_direction": "descending", "scene_id": "S1_108_20250406_20250418"}
    ifg = dimap_to_interferogram(dim, event, pair, "IW2", {"graph": {"Interferogram": {"cohWinRg": "10"}}})
    out = tmp_path / "out.h5"
    write_interferogram(out, ifg)
    back = read_interferogram(out)

    valid = back.optional["valid"].astype(bool)
    assert not valid[:3].any() and valid[3:].all()
    np.testing.assert_array_equal(back.i[3:], i[3:])
    np.testing.assert_array_equal(back.q[3:], q[3:])
    np.testing.assert_array_equal(back.coherence[3:], coh[3:])
    np.testing.assert_allclose(back.phase[3:], np.arctan2(q[3:], i[3:]), atol=1e-6)
    assert np.all(back.i[:3] == 0) and np.all(back.coherence[:3] == 0)

    # geolocation: node (k, l) of SNAP's grid is at pixel (origin_row + k*step_y, origin_col + l*step_x)
    for k, l in [(0, 0), (2, 3), (4, 8)]:
        r = origin[0] + k * step[1]
        c = origin[1] + l * step[0]
        assert back.latitude.at(r, c) == pytest.approx(grids["latitude"][k, l], abs=1e-5)
        assert back.longitude.at(r, c) == pytest.approx(grids["longitude"][k, l], abs=1e-5)
        assert back.incidence.at(r, c) == pytest.approx(grids["incident_angle"][k, l], abs=1e-5)
    # last node: SAR operators (integral offsets) clamp it to the last line/pixel
    last_row = back.latitude.tie_rows[-1]
    assert last_row == (59.0 if float(offset[1]).is_integer() else offset[1] - 0.5 + 5 * step[1])
    # between nodes the linear field is reproduced exactly by bilinear interpolation
    r, c = 17.0, 33.0
    ty, tx = (r - origin[0]) / step[1], (c - origin[1]) / step[0]
    assert back.latitude.at(r, c) == pytest.approx(52.0 + 0.001 * ty * step[1] + 0.0002 * tx * step[0], abs=1e-5)

    a = back.attrs
    assert a["reference_time"] == "2025-04-06T02:20:10.484339Z"  # metadata wins over the pair record
    assert a["secondary_time"] == "2025-04-18T02:20:10.512000Z"
    assert a["flight_direction"] == "ascending" and a["track"] == 108
    assert a["heading_deg"] == pytest.approx(-12.1)
    assert a["wavelength_m"] == pytest.approx(0.0554658, abs=1e-6)
    assert a["range_pixel_spacing_m"] == pytest.approx(2.329562)
    assert a["azimuth_pixel_spacing_m"] == pytest.approx(13.968)
    assert (a["looks_range"], a["looks_azimuth"]) == (1, 1)
    assert a["backend"] == "snap" and a["subswath"] == "IW2" and a["event_id"] == "us7000test"
    assert a["scene_id"] == "S1_108_20250406_20250418"
    assert a["backend_parameters"]["snap_bands"]["coherence"] == "coh_IW2_VV_06Apr2025_18Apr2025"


def test_pair_record_fills_missing_metadata(tmp_path: Path) -> None:
    i, q, coh, grids, step = _scene(rows=20, cols=30)
    am = {k: v for k, v in ABSTRACTED.items() if k not in ("first_line_time", "PASS", "REL_ORBIT", "centre_heading")}
    dim = tmp_path / "x.dim"
    write_snap_ifg_dimap(dim, i, q, coh, grids, (0.5, 0.5), step, am, None)
    pair = {"reference": {"start_time": "2025-04-06T02:20:08Z"}, "secondary": {"startTime": "2025-04-18T02:20:08Z"},
            "track": 108, "flight_direction": "DESCENDING"}
    ifg = dimap_to_interferogram(dim, {"id": "e1"}, pair, "IW2", {})
    assert ifg.attrs["reference_time"] == "2025-04-06T02:20:08Z"
    assert ifg.attrs["secondary_time"] == "2025-04-18T02:20:08Z"
    assert ifg.attrs["track"] == 108 and ifg.attrs["flight_direction"] == "descending"
    assert ifg.attrs["heading_deg"] == pytest.approx(-168.0)
    with pytest.raises(ValueError, match="flight direction"):
        dimap_to_interferogram(dim, {"id": "e1"}, {**pair, "flight_direction": ""}, "IW2", {})


def test_multilooked_layout_and_missing_coherence(tmp_path: Path) -> None:
    i, q, coh, grids, step = _scene(rows=20, cols=30)
    dim = tmp_path / "ml.dim"
    write_snap_ifg_dimap(dim, i, q, coh, grids, (0.5, 0.5), step,
                         {**ABSTRACTED, "range_looks": "4", "azimuth_looks": "1", "range_spacing": "9.318248"},
                         "18-APR-2025 02:20:10.512000", tag="VV_06Apr2025_18Apr2025", swath="IW1")
    ifg = dimap_to_interferogram(dim, {"id": "e"}, {}, "IW1", {})
    assert (ifg.attrs["looks_range"], ifg.attrs["looks_azimuth"]) == (4, 1)
    assert ifg.attrs["range_pixel_spacing_m"] == pytest.approx(9.318248)
    # a product without the coherence band (includeCoherence=false) is refused, naming the band
    (dim.with_suffix(".data") / "coh_IW1_VV_06Apr2025_18Apr2025.hdr").unlink()
    text = dim.read_text(encoding="latin-1").replace("<BAND_NAME>coh_IW1_VV", "<BAND_NAME>other_IW1_VV")
    dim.write_text(text, encoding="latin-1")
    with pytest.raises(ValueError, match=r"coh_\*"):
        dimap_to_interferogram(dim, {"id": "e"}, {}, "IW1", {})
