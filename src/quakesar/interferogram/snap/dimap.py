"""Read BEAM-DIMAP products, the format SNAP's ``Write`` operator produces (``formatName=BEAM-DIMAP``).

A product is an XML header ``<name>.dim`` and a directory ``<name>.data/`` holding one ENVI
file pair per band and per tie-point grid (``tie_point_grids/``), see
:mod:`quakesar.interferogram.snap.envi`. The elements read here are those of SNAP's DIMAP
profile ``BEAM-DATAMODEL-V1`` as SNAP writes them (``DimapProductHelpers`` /
``DimapHeaderWriter`` in snap-engine's ``snap-core`` module, and the real product in
``tests/fixtures/snap/``):

* ``Raster_Dimensions/NCOLS, NROWS``;
* ``Data_Access/Data_File`` (``DATA_FILE_PATH@href``, ``BAND_INDEX``) and
  ``Tie_Point_Grid_File`` (``TIE_POINT_GRID_FILE_PATH@href``, ``TIE_POINT_GRID_INDEX``);
* ``Image_Interpretation/Spectral_Band_Info``: ``BAND_INDEX``, ``BAND_NAME``, ``DATA_TYPE``,
  ``PHYSICAL_UNIT``, ``SCALING_FACTOR``, ``SCALING_OFFSET``, ``NO_DATA_VALUE_USED``,
  ``NO_DATA_VALUE``, ``EXPRESSION`` (virtual bands have an expression and no data file);
* ``Tie_Point_Grids/Tie_Point_Grid_Info``: ``NCOLS``, ``NROWS``, ``OFFSET_X``, ``OFFSET_Y``,
  ``STEP_X``, ``STEP_Y``, ``CYCLIC``;
* ``Dataset_Sources/MDElem[@name=metadata]``: the metadata tree (``MDElem`` / ``MDATTR``),
  where SAR products carry ``Abstracted_Metadata`` (with the secondary images' metadata for
  stacks: ``Secondary_Metadata`` from SNAP 10 on, ``Slave_Metadata`` before, see
  :func:`secondary_metadata`) and ``Processing_Graph``.

**Tie-point coordinates.** SNAP's ``TiePointGrid`` places node ``(i, j)`` at image
coordinate ``(x, y) = (OFFSET_X + j * STEP_X, OFFSET_Y + i * STEP_Y)``, in SNAP's image
coordinate system where pixel ``(col, row)`` covers ``[col, col + 1) x [row, row + 1)`` and its
centre is at ``(col + 0.5, row + 0.5)`` (snap-engine ``TiePointGrid`` javadoc: "offsetX - the X
co-ordinate of the first (upper-left) tie-point in pixels"). quakesar puts pixel centres at
integer coordinates (:mod:`quakesar.tiepoints`), so by that convention node ``(i, j)`` is at
``row = OFFSET_Y + i * STEP_Y - 0.5``, ``col = OFFSET_X + j * STEP_X - 0.5``. Readers that
sample pixel centres therefore write offsets ending in ``.5`` (s1tbx
``Sentinel1Level1Directory``: offset 0.5; the real MERIS subset in the fixtures: offset
``(-16.5, -51.5)``, step 64 = the full product's pixel-centre grid shifted by the subset origin
``(3793, 820)`` of its ``history/SubsetInfo``).

The SAR operators that rebuild the grids of an interferogram do not follow that convention:
TOPSAR-Deburst (s1tbx ``TOPSARDeburstOp.createTiePointGrids``) writes offset 0 and computes
node ``i`` at line index ``y = i * subSamplingY`` (azimuth time ``firstLineTime + y * dt``, the
centre of line ``y``), and Multilook (``MultilookOp`` via
``OperatorUtils.createNewTiePointGridsAndGeoCoding``) writes offset 0 with nodes sampled at the
centres of multilooked pixels ``k * subSampling``. Their node ``(i, j)`` is therefore the pixel
with *index* ``(OFFSET_Y + i * STEP_Y, OFFSET_X + j * STEP_X)``, except that both clamp the
sampled index to the last line/pixel (``Math.min(i * subSampling, height - 1)``; Multilook in
SNAP 9 and 14, TOPSAR-Deburst in SNAP 14 whose step is ``height / (gridHeight - 1)``), so a node
stored beyond the raster holds the value of the last line/pixel.
:func:`tie_point_pixel_coords` follows the actual sampling: an offset with a half-pixel fraction
is read by SNAP's documented convention; an integral offset (0 from those operators) as pixel
indices, clamped to the raster. Reading the Deburst grids by the documented convention would
misplace the geolocation by half a pixel (about 7 m in azimuth, 1 m in slant range at full
resolution). Residual: SNAP 9's Deburst does not clamp (integer step ``width // 20``); when the
width is a multiple of 20 its last node column is really at ``width``, and clamping places it
one pixel early.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from quakesar.interferogram.snap.envi import EnviHeader, read_header, read_raster


@dataclass
class MetadataElement:
    """One ``MDElem`` of the DIMAP metadata tree: attributes (text values) and child elements."""

    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    elements: list["MetadataElement"] = field(default_factory=list)

    def element(self, name: str) -> "MetadataElement | None":
        """The first child element called ``name`` (None when absent)."""
        return next((e for e in self.elements if e.name == name), None)

    def find(self, name: str) -> "MetadataElement | None":
        """The first element called ``name`` anywhere below (depth first), or None."""
        for e in self.elements:
            if e.name == name:
                return e
            hit = e.find(name)
            if hit is not None:
                return hit
        return None

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attributes.get(name, default)


#: Names of the stack's secondary-image metadata element: SNAP 10+ (microwave-toolbox, e.g. 14.0)
#: writes ``Secondary_Metadata``, SNAP 9 and older (s1tbx) ``Slave_Metadata``.
SECONDARY_METADATA_NAMES = ("Secondary_Metadata", "Slave_Metadata")


def secondary_metadata(root: MetadataElement) -> MetadataElement | None:
    """The secondary-image metadata element of a stack, under either of SNAP's names (or None)."""
    for name in SECONDARY_METADATA_NAMES:
        hit = root.find(name)
        if hit is not None:
            return hit
    return None


@dataclass(frozen=True)
class BandInfo:
    """A raster band of the product (``data_file`` None for virtual bands)."""

    name: str
    index: int
    data_type: str
    unit: str
    scaling_factor: float
    scaling_offset: float
    no_data_value_used: bool
    no_data_value: float
    data_file: Path | None
    expression: str | None = None


@dataclass(frozen=True)
class TiePointGridInfo:
    """A tie-point grid: size, SNAP offset/step (image coordinates, pixel centre at +0.5) and file."""

    name: str
    index: int
    ncols: int
    nrows: int
    offset_x: float
    offset_y: float
    step_x: float
    step_y: float
    cyclic: bool
    unit: str
    data_file: Path


def _origin_shift(offset: float) -> float:
    """-0.5 for SNAP's pixel-corner image coordinates (offset with a .5 fraction), 0 for integral offsets."""
    return 0.0 if float(offset).is_integer() else -0.5


def _node_positions(offset: float, step: float, count: int, size: int | None) -> np.ndarray:
    pos = offset + _origin_shift(offset) + step * np.arange(count, dtype=np.float64)
    if size is not None and float(offset).is_integer():
        pos = np.minimum(pos, size - 1)  # SAR operators sample min(i * step, size - 1)
        if np.any(np.diff(pos) <= 0):
            raise ValueError(f"tie-point nodes collapse when clamped to the raster of {size} (offset {offset}, "
                             f"step {step}, {count} nodes)")
    return pos


def tie_point_pixel_coords(info: TiePointGridInfo, raster_shape: tuple[int, int] | None = None
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the grid's nodes in quakesar pixel coordinates (pixel centres at integers).

    See the module docstring: half-integral offsets (SNAP readers, subsets) are image
    coordinates with pixel centres at +0.5; integral offsets (TOPSAR-Deburst, Multilook) index
    the pixel the node was computed for, clamped to the raster ``(height, width)`` when given.
    """
    height, width = raster_shape if raster_shape is not None else (None, None)
    rows = _node_positions(info.offset_y, info.step_y, info.nrows, height)
    cols = _node_positions(info.offset_x, info.step_x, info.ncols, width)
    return rows, cols


@dataclass
class DimapProduct:
    """A BEAM-DIMAP product opened for reading (rasters are read on demand)."""

    path: Path
    name: str
    width: int
    height: int
    bands: dict[str, BandInfo]
    tie_point_grids: dict[str, TiePointGridInfo]
    metadata: MetadataElement
    product_type: str = ""
    start_time: str = ""
    stop_time: str = ""

    def band_header(self, name: str) -> EnviHeader:
        band = self._band(name)
        if band.data_file is None:
            raise ValueError(f"{self.path}: band {name!r} is virtual (expression {band.expression!r}), it has no data file")
        return read_header(band.data_file)

    def _band(self, name: str) -> BandInfo:
        if name not in self.bands:
            raise KeyError(f"{self.path}: no band {name!r}; bands: {', '.join(self.bands)}")
        return self.bands[name]

    def read_band(self, name: str, rows: slice = slice(None), cols: slice = slice(None),
                  nodata_as_nan: bool = True) -> np.ndarray:
        """Band ``name`` (or a window of it) as float32/float64 with SNAP's scaling applied.

        With ``nodata_as_nan`` pixels equal to the band's ``NO_DATA_VALUE`` (when
        ``NO_DATA_VALUE_USED``) become NaN.
        """
        band = self._band(name)
        hdr = self.band_header(name)
        if (hdr.lines, hdr.samples) != (self.height, self.width):
            raise ValueError(f"{hdr.path}: raster is {hdr.lines}x{hdr.samples}, product {self.path} says "
                             f"{self.height}x{self.width}")
        raw = read_raster(hdr)[rows, cols]
        out_dtype = np.float64 if raw.dtype.itemsize > 4 else np.float32
        data = raw.astype(out_dtype)
        use_nodata = band.no_data_value_used and nodata_as_nan
        if use_nodata:
            nodata = raw == np.asarray(band.no_data_value).astype(raw.dtype)
        if band.scaling_factor != 1.0 or band.scaling_offset != 0.0:
            data = data * out_dtype(band.scaling_factor) + out_dtype(band.scaling_offset)
        if use_nodata:
            data[nodata] = np.nan
        return data

    def read_tie_point_grid(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(values [nrows, ncols], node rows, node cols)`` in quakesar pixel coordinates."""
        if name not in self.tie_point_grids:
            raise KeyError(f"{self.path}: no tie-point grid {name!r}; grids: {', '.join(self.tie_point_grids)}")
        info = self.tie_point_grids[name]
        hdr = read_header(info.data_file)
        if (hdr.lines, hdr.samples) != (info.nrows, info.ncols):
            raise ValueError(f"{hdr.path}: tie-point grid is {hdr.lines}x{hdr.samples}, {self.path} says "
                             f"{info.nrows}x{info.ncols}")
        values = np.asarray(read_raster(hdr, mmap=False), dtype=np.float64)
        rows, cols = tie_point_pixel_coords(info, (self.height, self.width))
        return values, rows, cols

    @property
    def abstracted_metadata(self) -> MetadataElement | None:
        """SNAP's ``Abstracted_Metadata`` element of SAR products (None for other products)."""
        return self.metadata.element("Abstracted_Metadata")


def _text(node: ET.Element | None, tag: str, default: str = "") -> str:
    if node is None:
        return default
    child = node.find(tag)
    return child.text.strip() if child is not None and child.text is not None else default


def _number(node: ET.Element, tag: str, path: Path, default: float | None = None) -> float:
    raw = _text(node, tag)
    if raw == "":
        if default is None:
            raise ValueError(f"{path}: <{node.tag}> lacks <{tag}>")
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{path}: <{node.tag}>/<{tag}> = {raw!r}, expected a number") from None


def _metadata(elem: ET.Element) -> MetadataElement:
    out = MetadataElement(elem.get("name", ""))
    for child in elem:
        if child.tag == "MDElem":
            out.elements.append(_metadata(child))
        elif child.tag == "MDATTR":
            out.attributes[child.get("name", "")] = (child.text or "").strip()
    return out


def read_dimap(path: str | Path) -> DimapProduct:
    """Open a ``.dim`` file (or the product's ``.data`` directory path) and index its bands and grids."""
    path = Path(path)
    if path.suffix == ".data":
        path = path.with_suffix(".dim")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: BEAM-DIMAP header (.dim) not found")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise ValueError(f"{path}: not well-formed XML ({exc})") from None
    if root.tag != "Dimap_Document":
        raise ValueError(f"{path}: root element <{root.tag}>, expected <Dimap_Document>")
    base = path.parent
    dims = root.find("Raster_Dimensions")
    if dims is None:
        raise ValueError(f"{path}: no <Raster_Dimensions>")
    width, height = int(_number(dims, "NCOLS", path)), int(_number(dims, "NROWS", path))

    files: dict[int, Path] = {}
    grid_files: dict[int, Path] = {}
    access = root.find("Data_Access")
    if access is not None:
        for df in access.findall("Data_File"):
            href = df.find("DATA_FILE_PATH")
            if href is not None and href.get("href"):
                files[int(_number(df, "BAND_INDEX", path))] = base / href.get("href", "")
        for tf in access.findall("Tie_Point_Grid_File"):
            href = tf.find("TIE_POINT_GRID_FILE_PATH")
            if href is not None and href.get("href"):
                grid_files[int(_number(tf, "TIE_POINT_GRID_INDEX", path))] = base / href.get("href", "")

    bands: dict[str, BandInfo] = {}
    for info in root.iterfind("Image_Interpretation/Spectral_Band_Info"):
        index = int(_number(info, "BAND_INDEX", path))
        data_file = files.get(index)
        name = _text(info, "BAND_NAME") or (data_file.stem if data_file else f"band_{index}")
        expression = _text(info, "EXPRESSION") or _text(info, "VIRTUAL_BAND_EXPRESSION") or None
        bands[name] = BandInfo(
            name=name, index=index, data_type=_text(info, "DATA_TYPE"), unit=_text(info, "PHYSICAL_UNIT"),
            scaling_factor=_number(info, "SCALING_FACTOR", path, 1.0),
            scaling_offset=_number(info, "SCALING_OFFSET", path, 0.0),
            no_data_value_used=_text(info, "NO_DATA_VALUE_USED").lower() == "true",
            no_data_value=_number(info, "NO_DATA_VALUE", path, 0.0),
            data_file=data_file, expression=expression,
        )

    grids: dict[str, TiePointGridInfo] = {}
    for info in root.iterfind("Tie_Point_Grids/Tie_Point_Grid_Info"):
        index = int(_number(info, "TIE_POINT_GRID_INDEX", path))
        name = _text(info, "TIE_POINT_GRID_NAME")
        if index not in grid_files:
            raise ValueError(f"{path}: tie-point grid {name!r} (index {index}) has no Tie_Point_Grid_File")
        grids[name] = TiePointGridInfo(
            name=name, index=index, ncols=int(_number(info, "NCOLS", path)), nrows=int(_number(info, "NROWS", path)),
            offset_x=_number(info, "OFFSET_X", path), offset_y=_number(info, "OFFSET_Y", path),
            step_x=_number(info, "STEP_X", path), step_y=_number(info, "STEP_Y", path),
            cyclic=_text(info, "CYCLIC").lower() == "true", unit=_text(info, "PHYSICAL_UNIT"),
            data_file=grid_files[index],
        )

    md_root = root.find("Dataset_Sources/MDElem[@name='metadata']")
    metadata = _metadata(md_root) if md_root is not None else MetadataElement("metadata")
    production = root.find("Production")
    return DimapProduct(
        path=path, name=_text(root.find("Dataset_Id"), "DATASET_NAME", path.stem), width=width, height=height,
        bands=bands, tie_point_grids=grids, metadata=metadata,
        product_type=_text(production, "PRODUCT_TYPE"),
        start_time=_text(production, "PRODUCT_SCENE_RASTER_START_TIME"),
        stop_time=_text(production, "PRODUCT_SCENE_RASTER_STOP_TIME"),
    )
