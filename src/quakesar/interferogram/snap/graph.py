"""The SNAP GPT graph (XML) of the Sentinel-1 TOPS interferogram chain, one per event and subswath.

Chain (node ids in brackets)::

    Read [Read-Reference] -> Apply-Orbit-File [Apply-Orbit-File-Reference] -> TOPSAR-Split [TOPSAR-Split-Reference] \\
                                                                                               Back-Geocoding -> [Enhanced-Spectral-Diversity]
    Read [Read-Secondary] -> Apply-Orbit-File [Apply-Orbit-File-Secondary] -> TOPSAR-Split [TOPSAR-Split-Secondary] /
    -> Interferogram -> TOPSAR-Deburst -> TopoPhaseRemoval -> [Multilook] -> [GoldsteinPhaseFiltering] -> Write

Graph XML layout (``<graph id><version>1.0</version><node id><operator/><sources/><parameters/>``,
``sourceProduct`` / ``sourceProduct.1`` for the two inputs of Back-Geocoding) as in SNAP's own
bundled graph "TOPSAR Coreg Interferogram.xml" (senbox-org/s1tbx, commit 1daae60,
``s1tbx-op-insar-ui/src/main/resources/org/esa/s1tbx/insar/graphs/Radar/InSAR Graphs/``), which
splits before applying orbits; both orders are valid because Apply-Orbit-File only rewrites
the orbit state vectors of the metadata.

Every operator alias and parameter name below is the ``@OperatorMetadata(alias=...)`` and the
``@Parameter`` field name in SNAP's Java sources; :data:`OPERATOR_PARAMETERS` lists them with
the source file (senbox-org/s1tbx at commit 1daae60d, SNAP 9; snap-engine for Read/Write), and
:func:`build_nodes` refuses any parameter not in that table. Before running, the runner also
checks them against the installed SNAP when ``esa_snappy`` is importable
(:func:`quakesar.interferogram.snap.runner.validate_with_snappy`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quakesar.atomic import write_text

S1TBX = "senbox-org/s1tbx@1daae60d"

#: operator alias -> (parameter names declared by its Java class, where they are declared)
OPERATOR_PARAMETERS: dict[str, tuple[frozenset[str], str]] = {
    "Read": (frozenset({"file", "formatName", "bandNames", "sourceBands", "maskNames", "sourceMasks", "pixelRegion",
                        "geometryRegion", "useAdvancedOptions", "copyMetadata"}),
             "senbox-org/snap-engine snap-gpf org/esa/snap/core/gpf/common/ReadOp.java"),
    "Apply-Orbit-File": (frozenset({"orbitType", "polyDegree", "continueOnFail"}),
                         f"{S1TBX} s1tbx-io-ephemeris/.../orbits/gpf/ApplyOrbitFileOp.java"),
    "TOPSAR-Split": (frozenset({"subswath", "selectedPolarisations", "firstBurstIndex", "lastBurstIndex", "wktAoi"}),
                     f"{S1TBX} s1tbx-op-sentinel1/.../sentinel1/gpf/TOPSARSplitOp.java"),
    "Back-Geocoding": (frozenset({"demName", "demResamplingMethod", "externalDEMFile", "externalDEMNoDataValue",
                                  "resamplingType", "maskOutAreaWithoutElevation", "outputRangeAzimuthOffset",
                                  "outputDerampDemodPhase", "disableReramp"}),
                       f"{S1TBX} s1tbx-op-sentinel1/.../sentinel1/gpf/BackGeocodingOp.java"),
    "Enhanced-Spectral-Diversity": (frozenset({"fineWinWidthStr", "fineWinHeightStr", "fineWinAccAzimuth",
                                               "fineWinAccRange", "fineWinOversampling", "xCorrThreshold",
                                               "cohThreshold", "numBlocksPerOverlap", "esdEstimator", "weightFunc",
                                               "temporalBaselineType", "maxTemporalBaseline", "integrationMethod",
                                               "doNotWriteTargetBands", "useSuppliedRangeShift", "overallRangeShift",
                                               "useSuppliedAzimuthShift", "overallAzimuthShift"}),
                                    f"{S1TBX} s1tbx-op-sentinel1/.../sentinel1/gpf/SpectralDiversityOp.java"),
    "Interferogram": (frozenset({"subtractFlatEarthPhase", "srpPolynomialDegree", "srpNumberPoints", "orbitDegree",
                                 "includeCoherence", "cohWinAz", "cohWinRg", "squarePixel", "subtractTopographicPhase",
                                 "demName", "externalDEMFile", "externalDEMNoDataValue", "externalDEMApplyEGM",
                                 "tileExtensionPercent", "outputElevation", "outputLatLon"}),
                      f"{S1TBX} s1tbx-op-insar/.../insar/gpf/InterferogramOp.java"),
    "TOPSAR-Deburst": (frozenset({"selectedPolarisations"}),
                       f"{S1TBX} s1tbx-op-sentinel1/.../sentinel1/gpf/TOPSARDeburstOp.java"),
    "TopoPhaseRemoval": (frozenset({"orbitDegree", "demName", "externalDEMFile", "externalDEMNoDataValue",
                                    "tileExtensionPercent", "outputTopoPhaseBand", "outputElevationBand",
                                    "outputLatLonBands"}),
                         f"{S1TBX} jlinda/jlinda-nest/.../jlinda/nest/gpf/SubtRefDemOp.java"),
    "Multilook": (frozenset({"sourceBands", "nRgLooks", "nAzLooks", "outputIntensity", "grSquarePixel"}),
                  f"{S1TBX} s1tbx-op-sar-processing/.../sar/gpf/MultilookOp.java"),
    "GoldsteinPhaseFiltering": (frozenset({"alpha", "FFTSizeString", "windowSizeString", "useCoherenceMask",
                                           "coherenceThreshold",
                                           # SNAP 14 adds (senbox-org/microwave-toolbox 14.0.0,
                                           # sar-op-insar/.../insar/gpf/filtering/GoldsteinFilterOp.java):
                                           "useAdaptiveAlpha", "alphaMin", "alphaMax", "fftSizeMeters"}),
                                f"{S1TBX} s1tbx-op-insar/.../insar/gpf/GoldsteinFilterOp.java; "
                                "senbox-org/microwave-toolbox@14.0.0 for useAdaptiveAlpha/alphaMin/alphaMax/fftSizeMeters"),
    "Write": (frozenset({"file", "formatName", "deleteOutputOnFailure", "writeEntireTileRows",
                         "clearCacheAfterRowWrite"}),
              "senbox-org/snap-engine snap-gpf org/esa/snap/core/gpf/common/WriteOp.java"),
}

#: DEM names SNAP's auto-download DEM registry accepts (``demName``; SNAP's Copernicus DEM
#: descriptors are "Copernicus 30m Global DEM" and "Copernicus 90m Global DEM"); "Copernicus 30m"
#: is the config's short form of the 30 m one. Every name the config schema allows
#: (``interferogram.snap.dem``) must be here (tests/test_snap_fixes.py checks it).
DEM_NAMES = {"SRTM 1Sec HGT": "SRTM 1Sec HGT", "SRTM 3Sec": "SRTM 3Sec",
             "Copernicus 30m Global DEM": "Copernicus 30m Global DEM", "Copernicus 30m": "Copernicus 30m Global DEM",
             "Copernicus 90m Global DEM": "Copernicus 90m Global DEM"}

#: ``ResamplingFactory`` names (snap-engine ``org.esa.snap.core.dataop.resamp.ResamplingFactory``).
RESAMPLING_NAMES = frozenset({"NEAREST_NEIGHBOUR", "BILINEAR_INTERPOLATION", "CUBIC_CONVOLUTION",
                              "BISINC_5_POINT_INTERPOLATION", "BISINC_11_POINT_INTERPOLATION",
                              "BISINC_21_POINT_INTERPOLATION", "BICUBIC_INTERPOLATION"})

#: valueSets of GoldsteinFilterOp (FFTSizeString, windowSizeString) and InterferogramOp.
GOLDSTEIN_FFT_SIZES = ("32", "64", "128", "256")
GOLDSTEIN_WINDOWS = ("3", "5", "7")


@dataclass
class Node:
    """One graph node: id, operator alias, sources (``sourceProduct``, ``sourceProduct.1``...), parameters."""

    id: str
    operator: str
    sources: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    citation: str = ""


def _fmt(value: Any) -> str:
    """A parameter value as GPT reads it from XML (booleans lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_node(node: Node) -> None:
    """Refuse an operator alias or parameter name that SNAP does not declare (see :data:`OPERATOR_PARAMETERS`)."""
    if node.operator not in OPERATOR_PARAMETERS:
        raise ValueError(f"graph node {node.id!r}: operator {node.operator!r} is not a known SNAP operator alias")
    known, where = OPERATOR_PARAMETERS[node.operator]
    unknown = sorted(set(node.parameters) - known)
    if unknown:
        raise ValueError(f"graph node {node.id!r}: {node.operator} has no parameter(s) {unknown} (declared in {where})")


@dataclass(frozen=True)
class BurstRange:
    """1-based inclusive burst indices for TOPSAR-Split (``firstBurstIndex``/``lastBurstIndex``)."""

    first: int
    last: int

    def __post_init__(self) -> None:
        if not 1 <= self.first <= self.last:
            raise ValueError(f"burst range {self.first}..{self.last}: need 1 <= first <= last")


def _snap_cfg(cfg: dict[str, Any]) -> dict[str, Any]:
    return dict(cfg.get("snap") or {})


def resolve_dem(name: str) -> str:
    """The SNAP ``demName`` for a configured DEM (``interferogram.snap.dem``)."""
    if name not in DEM_NAMES:
        raise ValueError(f"interferogram.snap.dem = {name!r}: expected one of {sorted(DEM_NAMES)}")
    return DEM_NAMES[name]


def _resampling(key: str, value: str) -> str:
    if value not in RESAMPLING_NAMES:
        raise ValueError(f"interferogram.snap.{key} = {value!r}: expected one of {sorted(RESAMPLING_NAMES)}")
    return value


def build_nodes(reference: Path, secondary: Path, output: Path, subswath: str, cfg: dict[str, Any],
                polarisation: str = "VV", bursts: tuple[BurstRange, BurstRange] | None = None,
                installed: dict[str, set[str]] | None = None) -> list[Node]:
    """The graph's nodes in execution order for the ``interferogram`` config section ``cfg``.

    ``bursts`` holds the reference's and the secondary's burst range (they differ when the two
    acquisitions start at different bursts); None keeps every burst (SNAP's defaults 1..9999).
    ``output`` is the BEAM-DIMAP file to write (``.dim``). ``installed`` maps an operator to the
    parameter names the installed SNAP declares (:func:`.runner.operator_parameters`); it is
    used for version differences: SNAP 14's GoldsteinPhaseFiltering adapts alpha to the
    coherence by default (``useAdaptiveAlpha = true``), which would override the configured
    ``alpha``, so ``useAdaptiveAlpha`` is set to false where the installed SNAP has it.
    """
    if subswath not in ("IW1", "IW2", "IW3"):
        raise ValueError(f"subswath {subswath!r}: expected IW1, IW2 or IW3")
    snap = _snap_cfg(cfg)
    dem = resolve_dem(snap.get("dem", "SRTM 1Sec HGT"))
    coh = cfg.get("coherence_window") or {}
    gold = cfg.get("goldstein") or {}
    look = cfg.get("multilook") or {}
    nodes: list[Node] = []
    for role, path, burst in (("Reference", reference, bursts[0] if bursts else None),
                              ("Secondary", secondary, bursts[1] if bursts else None)):
        nodes.append(Node(f"Read-{role}", "Read", [], {"file": Path(path)},
                          "ReadOp: file (snap-engine); 'Read' node of TOPSAR Coreg Interferogram.xml"))
        nodes.append(Node(f"Apply-Orbit-File-{role}", "Apply-Orbit-File", [f"Read-{role}"], {
            "orbitType": snap.get("orbit_type", "Sentinel Precise (Auto Download)"),
            "polyDegree": 3,
            "continueOnFail": bool(snap.get("orbit_continue_on_fail", False)),
        }, "ApplyOrbitFileOp: orbitType valueSet 'Sentinel Precise (Auto Download)', polyDegree default 3, "
           "continueOnFail default false"))
        split = {"subswath": subswath, "selectedPolarisations": polarisation}
        if burst is not None:
            split.update(firstBurstIndex=burst.first, lastBurstIndex=burst.last)
        nodes.append(Node(f"TOPSAR-Split-{role}", "TOPSAR-Split", [f"Apply-Orbit-File-{role}"], split,
                          "TOPSARSplitOp: subswath, selectedPolarisations, firstBurstIndex [1,*) default 1, "
                          "lastBurstIndex default 9999"))
    nodes.append(Node("Back-Geocoding", "Back-Geocoding", ["TOPSAR-Split-Reference", "TOPSAR-Split-Secondary"], {
        "demName": dem,
        "demResamplingMethod": _resampling("dem_resampling", snap.get("dem_resampling", "BILINEAR_INTERPOLATION")),
        "resamplingType": _resampling("resampling", snap.get("resampling", "BILINEAR_INTERPOLATION")),
        "maskOutAreaWithoutElevation": True,
        "outputDerampDemodPhase": False,
        "disableReramp": False,
    }, "BackGeocodingOp: first source = reference (master), second = secondary (slave); demName, "
       "demResamplingMethod, resamplingType"))
    previous = "Back-Geocoding"
    if snap.get("esd", False):
        if bursts is not None and any(b.first == b.last for b in bursts):
            raise ValueError("interferogram.snap.esd: Enhanced-Spectral-Diversity estimates the shift in burst "
                             "overlaps and needs at least two bursts, but only one burst covers the epicentre; "
                             "set interferogram.snap.esd: false or interferogram.snap.bursts: all")
        nodes.append(Node("Enhanced-Spectral-Diversity", "Enhanced-Spectral-Diversity", [previous], {},
                          "SpectralDiversityOp: defaults (fine windows 512, cohThreshold 0.3, numBlocksPerOverlap 10)"))
        previous = "Enhanced-Spectral-Diversity"
    nodes.append(Node("Interferogram", "Interferogram", [previous], {
        "subtractFlatEarthPhase": True,
        "srpPolynomialDegree": 5,
        "srpNumberPoints": 501,
        "orbitDegree": 3,
        "includeCoherence": True,
        "cohWinRg": int(coh.get("range", 10)),
        "cohWinAz": int(coh.get("azimuth", 3)),
        "squarePixel": True,
        "subtractTopographicPhase": False,
    }, "InterferogramOp: srpPolynomialDegree valueSet 1..8, srpNumberPoints valueSet 301..1001, orbitDegree 1..5, "
       "cohWinAz/cohWinRg ints"))
    nodes.append(Node("TOPSAR-Deburst", "TOPSAR-Deburst", ["Interferogram"], {"selectedPolarisations": polarisation},
                      "TOPSARDeburstOp: selectedPolarisations"))
    nodes.append(Node("TopoPhaseRemoval", "TopoPhaseRemoval", ["TOPSAR-Deburst"], {
        "orbitDegree": 3, "demName": dem, "tileExtensionPercent": "100", "outputTopoPhaseBand": False,
        "outputElevationBand": False, "outputLatLonBands": False,
    }, "SubtRefDemOp (alias TopoPhaseRemoval): orbitDegree, demName, tileExtensionPercent (String)"))
    previous = "TopoPhaseRemoval"
    if snap.get("multilook", False):
        nodes.append(Node("Multilook", "Multilook", [previous], {
            "nRgLooks": int(look.get("range", 4)), "nAzLooks": int(look.get("azimuth", 1)),
            "outputIntensity": False, "grSquarePixel": False,
        }, "MultilookOp: nRgLooks, nAzLooks, outputIntensity=false keeps i/q, grSquarePixel=false uses the given looks"))
        previous = "Multilook"
    if gold.get("enabled", True):
        fft = str(gold.get("fft_size", 64))
        win = str(gold.get("window", 3))
        if fft not in GOLDSTEIN_FFT_SIZES:
            raise ValueError(f"interferogram.goldstein.fft_size = {fft}: SNAP accepts {GOLDSTEIN_FFT_SIZES}")
        if win not in GOLDSTEIN_WINDOWS:
            raise ValueError(f"interferogram.goldstein.window = {win}: SNAP accepts {GOLDSTEIN_WINDOWS}")
        alpha = float(gold.get("alpha", 1.0))
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"interferogram.goldstein.alpha = {alpha}: SNAP accepts (0, 1]")
        params: dict[str, Any] = {
            "alpha": alpha, "FFTSizeString": fft, "windowSizeString": win,
            "useCoherenceMask": bool(gold.get("use_coherence_mask", False)),
            "coherenceThreshold": float(gold.get("coherence_threshold", 0.2)),
        }
        if "useAdaptiveAlpha" in (installed or {}).get("GoldsteinPhaseFiltering", set()):
            params["useAdaptiveAlpha"] = False  # SNAP >= 14 defaults to true and would ignore alpha
        nodes.append(Node("GoldsteinPhaseFiltering", "GoldsteinPhaseFiltering", [previous], params,
                          "GoldsteinFilterOp: alpha (0,1], FFTSizeString valueSet 32..256, windowSizeString 3/5/7, "
                          "useCoherenceMask, coherenceThreshold [0,1]; useAdaptiveAlpha (SNAP 14, default true)"))
        previous = "GoldsteinPhaseFiltering"
    nodes.append(Node("Write", "Write", [previous], {"file": Path(output), "formatName": "BEAM-DIMAP"},
                      "WriteOp: file, formatName"))
    for node in nodes:
        check_node(node)
    return nodes


def graph_element(nodes: list[Node]) -> ET.Element:
    """The ``<graph>`` element of ``nodes``; each node is preceded by a comment citing its source."""
    ids = {n.id for n in nodes}
    graph = ET.Element("graph", id="Graph")
    ET.SubElement(graph, "version").text = "1.0"
    for node in nodes:
        missing = [s for s in node.sources if s not in ids]
        if missing:
            raise ValueError(f"graph node {node.id!r}: sources {missing} are not nodes of the graph")
        graph.append(ET.Comment(f" {node.operator}: {node.citation}; parameters declared in "
                                f"{OPERATOR_PARAMETERS[node.operator][1]} "))
        el = ET.SubElement(graph, "node", id=node.id)
        ET.SubElement(el, "operator").text = node.operator
        sources = ET.SubElement(el, "sources")
        for k, src in enumerate(node.sources):
            ET.SubElement(sources, "sourceProduct" if k == 0 else f"sourceProduct.{k}", refid=src)
        params = ET.SubElement(el, "parameters", {"class": "com.bc.ceres.binding.dom.XppDomElement"})
        for key, value in node.parameters.items():
            ET.SubElement(params, key).text = _fmt(value)
    ET.indent(graph, space="  ")
    return graph


def graph_xml(nodes: list[Node]) -> str:
    """The graph as XML text, ready for ``gpt graph.xml``."""
    return ET.tostring(graph_element(nodes), encoding="unicode", xml_declaration=False) + "\n"


def write_graph(path: str | Path, nodes: list[Node]) -> Path:
    """Write the graph XML atomically; returns ``path``."""
    write_text(path, graph_xml(nodes))
    return Path(path)


def parse_graph(xml_text: str) -> list[Node]:
    """Nodes of a graph XML (the inverse of :func:`graph_xml`, used to validate and to test)."""
    root = ET.fromstring(xml_text)
    if root.tag != "graph":
        raise ValueError(f"graph XML: root element <{root.tag}>, expected <graph>")
    nodes: list[Node] = []
    for el in root.findall("node"):
        op = el.findtext("operator", default="").strip()
        src_el = el.find("sources")
        sources = [s.get("refid", "") for s in (src_el if src_el is not None else [])]
        params_el = el.find("parameters")
        params = {p.tag: (p.text or "") for p in (params_el if params_el is not None else [])}
        nodes.append(Node(el.get("id", ""), op, sources, params))
    return nodes
