"""The GPT graph XML of the SNAP chain, and the burst-index lookup that feeds TOPSAR-Split.

The graph is checked as SNAP's GPT would read it (parsed back from the XML text: node ids,
operator aliases, ``sourceProduct``/``sourceProduct.1`` wiring, parameter values), against
the operator/parameter table taken from SNAP's operator sources. Burst lookup runs on real
Sentinel-1 annotation (``tests/fixtures/snap/*_iw2-annotation.zip``). SNAP itself cannot run here.
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from quakesar.interferogram.snap.bursts import annotation_burst_ids, burst_range, parse_burst_id
from quakesar.interferogram.snap.graph import (OPERATOR_PARAMETERS, BurstRange, Node, build_nodes, check_node, graph_element,
                                               graph_xml, parse_graph, write_graph)

FIXTURES = Path(__file__).parent / "fixtures" / "snap"
REF_ZIP = FIXTURES / "S1A_IW_SLC__1SDV_20250406T022008_20250406T022035_058630_07421F_93A7_iw2-annotation.zip"
SEC_ZIP = FIXTURES / "S1A_IW_SLC__1SDV_20250418T022008_20250418T022035_058805_074946_C7D4_iw2-annotation.zip"

BASE_ORDER = ["Read-Reference", "Apply-Orbit-File-Reference", "TOPSAR-Split-Reference",
              "Read-Secondary", "Apply-Orbit-File-Secondary", "TOPSAR-Split-Secondary",
              "Back-Geocoding", "Interferogram", "TOPSAR-Deburst", "TopoPhaseRemoval",
              "GoldsteinPhaseFiltering", "Write"]


def _cfg(**snap: object) -> dict:
    return {"multilook": {"range": 4, "azimuth": 1}, "coherence_window": {"range": 10, "azimuth": 3},
            "goldstein": {"enabled": True, "alpha": 1.0, "fft_size": 64, "window": 3, "coherence_threshold": 0.2},
            "snap": {"dem": "SRTM 1Sec HGT", "dem_resampling": "BILINEAR_INTERPOLATION",
                     "resampling": "BILINEAR_INTERPOLATION", "esd": False, "multilook": False,
                     "orbit_type": "Sentinel Precise (Auto Download)", "orbit_continue_on_fail": False, **snap}}


def _parsed(cfg: dict, bursts=None, tmp: Path = Path("/data")) -> dict[str, Node]:
    nodes = build_nodes(tmp / "ref.zip", tmp / "sec.zip", tmp / "out" / "ev_IW2.dim", "IW2", cfg, "VV", bursts)
    text = graph_xml(nodes)
    parsed = parse_graph(text)
    assert [n.id for n in parsed] == [n.id for n in nodes]
    return {n.id: n for n in parsed}


def test_reference_chain_order_wiring_and_parameters(tmp_path: Path) -> None:
    nodes = build_nodes(Path("/d/ref.zip"), Path("/d/sec.zip"), Path("/o/x.dim"), "IW2", _cfg(), "VV",
                        (BurstRange(4, 5), BurstRange(3, 4)))
    path = write_graph(tmp_path / "g.xml", nodes)
    root = ET.parse(path).getroot()  # well-formed XML that GPT can read
    assert root.tag == "graph" and root.findtext("version") == "1.0"
    g = {n.id: n for n in parse_graph(path.read_text())}
    assert list(g) == BASE_ORDER
    ops = [g[i].operator for i in BASE_ORDER]
    assert ops == ["Read", "Apply-Orbit-File", "TOPSAR-Split"] * 2 + [
        "Back-Geocoding", "Interferogram", "TOPSAR-Deburst", "TopoPhaseRemoval", "GoldsteinPhaseFiltering", "Write"]
    # wiring: each node reads the previous one; Back-Geocoding gets the reference first (master)
    assert g["Read-Reference"].sources == [] and g["Read-Secondary"].sources == []
    assert g["Apply-Orbit-File-Reference"].sources == ["Read-Reference"]
    assert g["TOPSAR-Split-Secondary"].sources == ["Apply-Orbit-File-Secondary"]
    assert g["Back-Geocoding"].sources == ["TOPSAR-Split-Reference", "TOPSAR-Split-Secondary"]
    bg = root.find("node[@id='Back-Geocoding']/sources")
    assert [c.tag for c in bg] == ["sourceProduct", "sourceProduct.1"]
    for a, b in zip(BASE_ORDER[6:], BASE_ORDER[7:]):
        assert g[b].sources == [a]
    # parameters
    assert g["Read-Reference"].parameters == {"file": "/d/ref.zip"}
    assert g["Read-Secondary"].parameters == {"file": "/d/sec.zip"}
    assert g["Apply-Orbit-File-Reference"].parameters == {
        "orbitType": "Sentinel Precise (Auto Download)", "polyDegree": "3", "continueOnFail": "false"}
    assert g["TOPSAR-Split-Reference"].parameters == {"subswath": "IW2", "selectedPolarisations": "VV",
                                                      "firstBurstIndex": "4", "lastBurstIndex": "5"}
    assert g["TOPSAR-Split-Secondary"].parameters["firstBurstIndex"] == "3"
    assert g["TOPSAR-Split-Secondary"].parameters["lastBurstIndex"] == "4"
    bgp = g["Back-Geocoding"].parameters
    assert bgp["demName"] == "SRTM 1Sec HGT" and bgp["demResamplingMethod"] == "BILINEAR_INTERPOLATION"
    assert bgp["resamplingType"] == "BILINEAR_INTERPOLATION"
    ifg = g["Interferogram"].parameters
    assert {k: ifg[k] for k in ("subtractFlatEarthPhase", "srpPolynomialDegree", "srpNumberPoints", "orbitDegree",
                                "includeCoherence", "cohWinRg", "cohWinAz")} == {
        "subtractFlatEarthPhase": "true", "srpPolynomialDegree": "5", "srpNumberPoints": "501", "orbitDegree": "3",
        "includeCoherence": "true", "cohWinRg": "10", "cohWinAz": "3"}
    assert g["TOPSAR-Deburst"].parameters == {"selectedPolarisations": "VV"}
    assert g["TopoPhaseRemoval"].parameters["demName"] == "SRTM 1Sec HGT"
    gp = g["GoldsteinPhaseFiltering"].parameters
    assert (gp["alpha"], gp["FFTSizeString"], gp["windowSizeString"], gp["coherenceThreshold"]) == ("1.0", "64", "3", "0.2")
    assert g["Write"].parameters == {"file": "/o/x.dim", "formatName": "BEAM-DIMAP"}
    # every parameter is one the operator's SNAP source declares; every node is preceded by its citation
    for n in g.values():
        assert set(n.parameters) <= OPERATOR_PARAMETERS[n.operator][0]
    text = path.read_text()
    for op in set(ops):
        assert re.search(rf"<!-- {re.escape(op)}: .*declared in [^>]*\.java", text), op
    assert "useAdaptiveAlpha" not in g["GoldsteinPhaseFiltering"].parameters  # not known to be installed


def test_snap14_adaptive_goldstein_alpha_is_switched_off() -> None:
    """SNAP 14 (microwave-toolbox 14.0.0) adapts alpha to coherence by default; the configured alpha must win."""
    snap14 = {"GoldsteinPhaseFiltering": {"alpha", "useAdaptiveAlpha", "alphaMin", "alphaMax", "FFTSizeString",
                                          "fftSizeMeters", "windowSizeString", "useCoherenceMask", "coherenceThreshold"}}
    nodes = build_nodes(Path("r"), Path("s"), Path("o.dim"), "IW2", _cfg(), installed=snap14)
    gp = {n.id: n for n in parse_graph(graph_xml(nodes))}["GoldsteinPhaseFiltering"].parameters
    assert gp["useAdaptiveAlpha"] == "false" and gp["alpha"] == "1.0"


def test_all_bursts_leaves_split_to_snap_defaults() -> None:
    g = _parsed(_cfg(), bursts=None)
    assert g["TOPSAR-Split-Reference"].parameters == {"subswath": "IW2", "selectedPolarisations": "VV"}


@pytest.mark.parametrize("esd,multilook", [(False, False), (True, False), (False, True), (True, True)])
def test_esd_and_multilook_toggles(esd: bool, multilook: bool) -> None:
    g = _parsed(_cfg(esd=esd, multilook=multilook))
    ids = list(g)
    assert ("Enhanced-Spectral-Diversity" in ids) == esd
    assert ("Multilook" in ids) == multilook
    expected = BASE_ORDER[:7] + (["Enhanced-Spectral-Diversity"] if esd else []) + ["Interferogram", "TOPSAR-Deburst",
               "TopoPhaseRemoval"] + (["Multilook"] if multilook else []) + ["GoldsteinPhaseFiltering", "Write"]
    assert ids == expected
    for a, b in zip(expected[6:], expected[7:]):
        assert g[b].sources == [a]
    if esd:
        assert g["Enhanced-Spectral-Diversity"].operator == "Enhanced-Spectral-Diversity"
        assert g["Interferogram"].sources == ["Enhanced-Spectral-Diversity"]
    if multilook:
        assert g["Multilook"].parameters["nRgLooks"] == "4" and g["Multilook"].parameters["nAzLooks"] == "1"
        assert g["Multilook"].parameters["outputIntensity"] == "false"


def test_configured_values_reach_the_graph() -> None:
    cfg = _cfg(dem="Copernicus 30m", dem_resampling="BICUBIC_INTERPOLATION",
               resampling="BISINC_5_POINT_INTERPOLATION", orbit_continue_on_fail=True,
               orbit_type="Sentinel Restituted (Auto Download)")
    cfg["coherence_window"] = {"range": 15, "azimuth": 5}
    cfg["goldstein"] = {"enabled": True, "alpha": 0.5, "fft_size": 32, "window": 5, "coherence_threshold": 0.3,
                        "use_coherence_mask": True}
    g = _parsed(cfg)
    assert g["Back-Geocoding"].parameters["demName"] == "Copernicus 30m Global DEM"
    assert g["TopoPhaseRemoval"].parameters["demName"] == "Copernicus 30m Global DEM"
    assert g["Back-Geocoding"].parameters["demResamplingMethod"] == "BICUBIC_INTERPOLATION"
    assert g["Back-Geocoding"].parameters["resamplingType"] == "BISINC_5_POINT_INTERPOLATION"
    assert g["Apply-Orbit-File-Secondary"].parameters["continueOnFail"] == "true"
    assert g["Apply-Orbit-File-Reference"].parameters["orbitType"] == "Sentinel Restituted (Auto Download)"
    assert (g["Interferogram"].parameters["cohWinRg"], g["Interferogram"].parameters["cohWinAz"]) == ("15", "5")
    gp = g["GoldsteinPhaseFiltering"].parameters
    assert (gp["alpha"], gp["FFTSizeString"], gp["windowSizeString"], gp["useCoherenceMask"],
            gp["coherenceThreshold"]) == ("0.5", "32", "5", "true", "0.3")
    cfg["goldstein"]["enabled"] = False
    g = _parsed(cfg)
    assert "GoldsteinPhaseFiltering" not in g and g["Write"].sources == ["TopoPhaseRemoval"]


@pytest.mark.parametrize("key,value,match", [
    ("dem", "GMTED2010", "interferogram.snap.dem"),
    ("resampling", "LANCZOS", "interferogram.snap.resampling"),
    ("dem_resampling", "bilinear", "interferogram.snap.dem_resampling"),
])
def test_bad_snap_config_is_refused_with_its_key(key: str, value: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_nodes(Path("r"), Path("s"), Path("o.dim"), "IW1", _cfg(**{key: value}))


def test_esd_needs_two_bursts() -> None:
    with pytest.raises(ValueError, match="at least two bursts"):
        build_nodes(Path("r"), Path("s"), Path("o.dim"), "IW2", _cfg(esd=True), "VV", (BurstRange(4, 4), BurstRange(4, 4)))
    g = _parsed(_cfg(esd=True), bursts=(BurstRange(4, 5), BurstRange(3, 4)))
    assert "Enhanced-Spectral-Diversity" in g


def test_bad_goldstein_and_subswath_are_refused() -> None:
    cfg = _cfg()
    cfg["goldstein"]["fft_size"] = 100
    with pytest.raises(ValueError, match="fft_size"):
        build_nodes(Path("r"), Path("s"), Path("o.dim"), "IW1", cfg)
    with pytest.raises(ValueError, match="IW4"):
        build_nodes(Path("r"), Path("s"), Path("o.dim"), "IW4", _cfg())
    with pytest.raises(ValueError, match="first <= last"):
        BurstRange(5, 4)


def test_unknown_operator_parameter_or_source_is_refused() -> None:
    with pytest.raises(ValueError, match="cohWindowRange"):
        check_node(Node("I", "Interferogram", [], {"cohWindowRange": 10}))
    with pytest.raises(ValueError, match="not a known SNAP operator"):
        check_node(Node("X", "Interferometry", [], {}))
    with pytest.raises(ValueError, match="not nodes of the graph"):
        graph_element([Node("W", "Write", ["Missing"], {"file": "x"})])


# --------------------------------------------------------------------------- bursts (real annotation)
def test_burst_ids_from_real_annotation_zip_and_safe_dir(tmp_path: Path) -> None:
    ids = annotation_burst_ids(REF_ZIP, "IW2")
    assert ids == list(range(230132, 230141))  # the 9 bursts' <burstId> of the real 2025-04-06 IW2 annotation
    assert burst_range(REF_ZIP, "IW2", [230135, 230136]) == BurstRange(4, 5)
    assert burst_range(SEC_ZIP, "IW2", ["108_230136_IW2", {"burst_id": 230133}]) == BurstRange(2, 5)
    with zipfile.ZipFile(REF_ZIP) as zf:
        zf.extractall(tmp_path)
    safe = next(tmp_path.glob("*.SAFE"))
    assert annotation_burst_ids(safe, "IW2") == ids


def test_burst_range_when_the_secondary_starts_one_burst_later(tmp_path: Path) -> None:
    """Drop the first burst from the real secondary annotation: the same ids sit one index earlier."""
    with zipfile.ZipFile(SEC_ZIP) as zf:
        names = zf.namelist()
        ann = next(n for n in names if "/annotation/" in n)
        xml = zf.read(ann).decode()
    start = xml.index("<burst>")
    end = xml.index("</burst>", start) + len("</burst>")
    xml = xml[:start] + xml[end:]
    xml = re.sub(r'<burstList count="9">', '<burstList count="8">', xml)
    out = tmp_path / SEC_ZIP.name
    with zipfile.ZipFile(SEC_ZIP) as src, zipfile.ZipFile(out, "w") as dst:
        for n in names:
            dst.writestr(n, xml if n == ann else src.read(n))
    assert annotation_burst_ids(out, "IW2") == list(range(230133, 230141))
    assert burst_range(out, "IW2", [230135, 230136]) == BurstRange(3, 4)
    with pytest.raises(ValueError, match=r"bursts \[230132\] are not in this SLC"):
        burst_range(out, "IW2", [230132])


def test_burst_errors_name_the_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no IW1 VV annotation"):
        annotation_burst_ids(REF_ZIP, "IW1")
    with pytest.raises(FileNotFoundError, match="missing.zip"):
        annotation_burst_ids(tmp_path / "missing.zip", "IW2")
    with pytest.raises(ValueError, match="expected a relative burst id"):
        parse_burst_id("IW2")
    with pytest.raises(ValueError, match="burst_id"):
        parse_burst_id({"name": 3})
    shutil.copy(REF_ZIP, tmp_path / "x.zip")
    with pytest.raises(ValueError, match="no burst ids"):
        burst_range(tmp_path / "x.zip", "IW2", [])
