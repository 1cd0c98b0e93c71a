"""The ``gpt`` runner and the SNAP backend's entry point, end to end up to SNAP's boundary.

SNAP's ``gpt`` cannot be installed here. **These tests use a stand-in ``gpt`` executable**
(a small Python script written into ``tmp_path``) that records its argv, reads the graph XML
it is given and writes, at the graph's ``Write`` file, a BEAM-DIMAP laid out as SNAP writes
interferograms (with the test writer of ``test_snap_dimap.py``); other variants exit
non-zero with SNAP-like error output or hang. Likewise SNAP's Python bridge ``esa_snappy``
is replaced by a stand-in module exposing the GPF operator-registry calls the runner makes.
This file is the only place stand-ins are used.
Everything else (graph, burst lookup on real annotation zips, log handling, process-group
kill on timeout, DIMAP reading and the canonical HDF5) is the real code.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from quakesar.interferogram.canonical import read_interferogram
from quakesar.interferogram.snap.graph import OPERATOR_PARAMETERS, build_nodes, graph_xml, write_graph
from quakesar.interferogram.snap.pipeline import process_pair
from quakesar.interferogram.snap.runner import (GptFailedError, GptNotFoundError, GptTimeoutError,
                                                GraphValidationError, run_gpt, validate_graph, validate_with_snappy)

TESTS = Path(__file__).parent
FIXTURES = TESTS / "fixtures" / "snap"
REF_ZIP = FIXTURES / "S1A_IW_SLC__1SDV_20250406T022008_20250406T022035_058630_07421F_93A7_iw2-annotation.zip"
SEC_ZIP = FIXTURES / "S1A_IW_SLC__1SDV_20250418T022008_20250418T022035_058805_074946_C7D4_iw2-annotation.zip"

# the layout of SNAP's operator help (``gpt <op> -h``, "Parameter Options: -P<name>=<type> ...")
_HELP = '''
Usage:
  gpt GoldsteinPhaseFiltering [options]

Description:
  Phase Filtering

Source Options:
  -Ssource=<file>    Sets source 'source' to <filepath>.
                     This is a mandatory source.

Parameter Options:
  -PFFTSizeString=<string>        Value must be one of '32', '64', '128', '256'.
                                  Default value is '64'.
  -Palpha=<double>                adaptive filter exponent
                                  Valid interval is (0, 1].
                                  Default value is '1.0'.
  -PcoherenceThreshold=<double>   The coherence threshold
                                  Default value is '0.2'.
  -PuseCoherenceMask=<boolean>    Use coherence mask
                                  Default value is 'false'.
{adaptive}  -PwindowSizeString=<string>     Value must be one of '3', '5', '7'.
                                  Default value is '3'.
'''

_WRITES_DIMAP = '''
import json, sys, xml.etree.ElementTree as ET
from pathlib import Path
here = Path(__file__).parent
with open(here / "calls.jsonl", "a") as fh:
    fh.write(json.dumps(sys.argv) + "\\n")
if sys.argv[2:] == ["-h"]:
    print({help!r})
    sys.exit(0)
import numpy as np
sys.path.insert(0, {tests!r})
from test_snap_dimap import write_snap_ifg_dimap, ABSTRACTED
(here / "argv.json").write_text(json.dumps(sys.argv))
root = ET.parse(sys.argv[1]).getroot()
out = Path(root.find("node[operator='Write']/parameters/file").text)
rows, cols = 40, 60
rr, cc = np.mgrid[0:rows, 0:cols]
phase = -0.3 * cc + 0.1 * rr
coh = np.full((rows, cols), 0.8, np.float32)
grids = {{"latitude": 52.0 - 0.01 * np.mgrid[0:5, 0:7][0] + 0.001 * np.mgrid[0:5, 0:7][1],
          "longitude": -128.0 + 0.02 * np.mgrid[0:5, 0:7][1],
          "incident_angle": 33.0 + 0.5 * np.mgrid[0:5, 0:7][1]}}
write_snap_ifg_dimap(out, np.cos(phase), np.sin(phase), coh, grids, (0.0, 0.0), (10.0, 10.0), ABSTRACTED,
                     "18-APR-2025 02:20:10.512000")
print("INFO: org.esa.snap.core.gpf.operators.tooladapter.ToolAdapterIO: Initializing external tool adapters")
print("Processing graph ... done.")
'''

_FAILS = '''
import sys
print("Executing processing graph")
for k in range(60):
    print(f"progress line {{k}}")
print("Error: [NodeId: Apply-Orbit-File-Reference] No valid orbit file found for 06-APR-2025 02:20:08", file=sys.stderr)
sys.exit(1)
'''

_HANGS = '''
import os, sys, time
from pathlib import Path
Path(__file__).with_name("pid").write_text(str(os.getpid()))
print("Executing processing graph", flush=True)
time.sleep(60)
'''


def _stand_in(tmp_path: Path, body: str, snap14: bool = False) -> Path:
    exe = tmp_path / "bin" / "gpt"
    exe.parent.mkdir(parents=True, exist_ok=True)
    adaptive = ("  -PuseAdaptiveAlpha=<boolean>    Adapt the filter exponent per FFT block from coherence\n"
                "                                  Default value is 'true'.\n") if snap14 else ""
    exe.write_text(f"#!{sys.executable}\n" + body.format(tests=str(TESTS), help=_HELP.format(adaptive=adaptive)))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


def _graph(tmp_path: Path, esd: bool = False) -> Path:
    nodes = build_nodes(REF_ZIP, SEC_ZIP, tmp_path / "work" / "ev_IW2.dim", "IW2", {"snap": {"esd": esd}})
    return write_graph(tmp_path / "work" / "ev_IW2_graph.xml", nodes)


def test_success_records_the_command_and_keeps_the_log(tmp_path: Path) -> None:
    exe = _stand_in(tmp_path, _WRITES_DIMAP)
    graph = _graph(tmp_path)
    log = tmp_path / "work" / "ev_IW2.gpt.log"
    res = run_gpt(graph, log, gpt=str(exe), cache="2G", parallelism=3, timeout_minutes=1)
    argv = json.loads((exe.parent / "argv.json").read_text())
    assert argv[1:] == [str(graph), "-c", "2G", "-q", "3", "-e"]
    assert res.command == [str(exe), str(graph), "-c", "2G", "-q", "3", "-e"]
    text = log.read_text()
    assert text.startswith("# command: ") and "Processing graph ... done." in text and "# exit: ok (status 0)" in text
    assert (tmp_path / "work" / "ev_IW2.dim").is_file()
    assert not list(log.parent.glob(".*.part"))


def test_gpt_found_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = _stand_in(tmp_path, _WRITES_DIMAP)
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    res = run_gpt(_graph(tmp_path), tmp_path / "l.log", gpt="gpt", timeout_minutes=1)
    assert res.command[0] == str(exe)


def test_missing_gpt_names_the_config_key(tmp_path: Path) -> None:
    with pytest.raises(GptNotFoundError, match=r"interferogram\.snap\.gpt"):
        run_gpt(_graph(tmp_path), tmp_path / "l.log", gpt=str(tmp_path / "snap" / "bin" / "gpt"))
    assert not (tmp_path / "l.log").exists()


def test_nonzero_exit_shows_the_log_tail(tmp_path: Path) -> None:
    exe = _stand_in(tmp_path, _FAILS)
    log = tmp_path / "work" / "fail.gpt.log"
    with pytest.raises(GptFailedError) as err:
        run_gpt(_graph(tmp_path), log, gpt=str(exe), timeout_minutes=1)
    msg = str(err.value)
    assert "status 1" in msg and "No valid orbit file found" in msg and str(log) in msg
    assert "progress line 59" in msg and "progress line 0\n" not in msg  # the tail, not the whole log
    assert "No valid orbit file" in log.read_text() and "# exit: failed (status 1)" in log.read_text()


def test_timeout_kills_gpt_and_keeps_the_log(tmp_path: Path) -> None:
    exe = _stand_in(tmp_path, _HANGS)
    log = tmp_path / "work" / "slow.gpt.log"
    t0 = time.monotonic()
    with pytest.raises(GptTimeoutError, match=r"timeout_minutes"):
        run_gpt(_graph(tmp_path), log, gpt=str(exe), timeout_minutes=0.03)
    assert time.monotonic() - t0 < 15
    pid = int((exe.parent / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert "Executing processing graph" in log.read_text() and "# exit: timeout" in log.read_text()


def test_operator_parameters_from_gpt_help(tmp_path: Path) -> None:
    from quakesar.interferogram.snap.runner import operator_parameters

    exe = _stand_in(tmp_path, _WRITES_DIMAP, snap14=True)
    names = operator_parameters(str(exe), "GoldsteinPhaseFiltering")
    assert names == {"FFTSizeString", "alpha", "coherenceThreshold", "useCoherenceMask", "useAdaptiveAlpha",
                     "windowSizeString"}
    failing = _stand_in(tmp_path / "f", _FAILS)
    with pytest.raises(GptFailedError, match="listed no parameters"):
        operator_parameters(str(failing), "GoldsteinPhaseFiltering")


def test_validate_graph_against_an_operator_registry(tmp_path: Path) -> None:
    text = _graph(tmp_path, esd=True).read_text()
    table = {op: set(params) for op, (params, _) in OPERATOR_PARAMETERS.items()}
    validate_graph(text, table.get)  # everything the graph uses is declared
    missing_esd = {k: v for k, v in table.items() if k != "Enhanced-Spectral-Diversity"}
    with pytest.raises(GraphValidationError, match="Enhanced-Spectral-Diversity.*not installed"):
        validate_graph(text, missing_esd.get)
    older = {**table, "Interferogram": table["Interferogram"] - {"srpNumberPoints"}}
    with pytest.raises(GraphValidationError, match=r"Interferogram has no parameter\(s\) \['srpNumberPoints'\]"):
        validate_graph(text, older.get)


def test_validation_is_skipped_without_esa_snappy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "esa_snappy", None)  # import raises ImportError
    with caplog.at_level("INFO"):
        assert validate_with_snappy(_graph(tmp_path).read_text()) is False
    assert "esa_snappy not importable" in caplog.text


class _Descriptor:
    def __init__(self, name: str, alias: str | None = None) -> None:
        self._name, self._alias = name, alias

    def getName(self) -> str:  # noqa: N802 - the Java API's names
        return self._name

    def getAlias(self) -> str | None:  # noqa: N802
        return self._alias


def test_validate_with_snappy_uses_the_gpf_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in ``esa_snappy`` exposing the GPF registry calls the runner makes (Java API shape)."""
    import types

    table = {op: sorted(params) for op, (params, _) in OPERATOR_PARAMETERS.items()}
    # Multilook declares the field sourceBandNames with alias sourceBands: accept graphs using either
    table["Multilook"] = [p for p in table["Multilook"] if p != "sourceBands"]

    class Spi:
        def __init__(self, op: str) -> None:
            self.op = op

        def getOperatorDescriptor(self):  # noqa: N802
            descs = [_Descriptor(p) for p in table[self.op]]
            if self.op == "Multilook":
                descs.append(_Descriptor("sourceBandNames", "sourceBands"))
            return types.SimpleNamespace(getParameterDescriptors=lambda: descs)

    seen: list[str] = []
    registry = types.SimpleNamespace(getOperatorSpi=lambda op: (seen.append(op), Spi(op) if op in table else None)[1])
    gpf = types.SimpleNamespace(getDefaultInstance=lambda: types.SimpleNamespace(getOperatorSpiRegistry=lambda: registry))
    monkeypatch.setitem(sys.modules, "esa_snappy", types.SimpleNamespace(GPF=gpf))
    nodes = build_nodes(REF_ZIP, SEC_ZIP, tmp_path / "o.dim", "IW2", {"snap": {"multilook": True}})
    nodes[-3].parameters["sourceBands"] = "i_ifg_VV,q_ifg_VV"  # Multilook, by the parameter's alias
    assert nodes[-3].operator == "Multilook"
    assert validate_with_snappy(graph_xml(nodes)) is True
    assert "Back-Geocoding" in seen and "GoldsteinPhaseFiltering" in seen
    del table["TopoPhaseRemoval"]
    with pytest.raises(GraphValidationError, match="TopoPhaseRemoval"):
        validate_with_snappy(graph_xml(nodes))


def _pairs(tmp_path: Path, bursts: dict) -> Path:
    doc = {"status": "ok", "reason": "", "pairs": [{
        "reference": {"scene": REF_ZIP.name[:67], "start": "2025-04-06T02:20:08Z"},
        "secondary": {"scene": SEC_ZIP.name[:67], "start": "2025-04-18T02:20:08Z"},
        "track": 108, "flight_direction": "ascending", "polarisation": "VV", "subswaths": ["IW2"],
        "bursts": bursts, "scene_id": "S1_T108A_20250406_20250418"}], "candidates": []}
    path = tmp_path / "pairs" / "ev1.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("snap14", [False, True])
def test_process_pair_end_to_end(tmp_path: Path, snap14: bool) -> None:
    exe = _stand_in(tmp_path, _WRITES_DIMAP, snap14)
    cfg = {"coherence_window": {"range": 10, "azimuth": 3}, "goldstein": {"enabled": True},
           "snap": {"gpt": str(exe), "cache": "1G", "parallelism": 2, "timeout_minutes": 1, "bursts": "epicentre",
                    "dem": "Copernicus 30m Global DEM"}}
    out = tmp_path / "results" / "interferograms" / "ev1" / "IW2.h5"
    png = out.with_suffix(".png")
    work = tmp_path / "work"
    log = tmp_path / "logs" / "ev1_IW2.log"
    process_pair(_pairs(tmp_path, {"IW2": [230135, 230136]}), {"id": "ev1"}, "IW2", [REF_ZIP, SEC_ZIP], out, cfg,
                 work, log, png)
    graph = (work / "ev1_IW2_graph.xml").read_text()
    assert "<firstBurstIndex>4</firstBurstIndex>" in graph and "<lastBurstIndex>5</lastBurstIndex>" in graph
    assert "<demName>Copernicus 30m Global DEM</demName>" in graph
    assert f"<file>{REF_ZIP}</file>" in graph and f"<file>{work / 'ev1_IW2.dim'}</file>" in graph
    ifg = read_interferogram(out)
    rr, cc = np.mgrid[0:40, 0:60]
    np.testing.assert_allclose(ifg.phase, np.angle(np.exp(1j * (-0.3 * cc + 0.1 * rr))), atol=1e-5)
    assert ifg.attrs["backend"] == "snap" and ifg.attrs["scene_id"] == "S1_T108A_20250406_20250418"
    assert ifg.attrs["backend_parameters"]["graph"]["TOPSAR-Split-Reference"]["firstBurstIndex"] == "4"
    assert ifg.attrs["backend_parameters"]["gpt_command"][2:] == ["-c", "1G", "-q", "2", "-e"]
    assert png.is_file() and png.stat().st_size > 1000
    summary = log.read_text()
    assert "bursts [230135, 230136] -> reference 4..5, secondary 4..5" in summary and "done in" in summary
    assert (work / "ev1_IW2.gpt.log").is_file()
    calls = [json.loads(line) for line in (exe.parent / "calls.jsonl").read_text().splitlines()]
    assert calls[0][1:] == ["GoldsteinPhaseFiltering", "-h"]  # the installed SNAP's parameters, asked first
    assert ("<useAdaptiveAlpha>false</useAdaptiveAlpha>" in graph) == snap14


def test_process_pair_failures_are_logged_and_raised(tmp_path: Path) -> None:
    cfg = {"snap": {"gpt": str(tmp_path / "nope" / "gpt"), "bursts": "epicentre"}}
    log = tmp_path / "log.txt"
    with pytest.raises(ValueError, match="no burst ids for IW2"):
        process_pair(_pairs(tmp_path, {"IW1": [1]}), {"id": "ev1"}, "IW2", [REF_ZIP, SEC_ZIP],
                     tmp_path / "o.h5", cfg, tmp_path / "w", log)
    assert "FAILED" in log.read_text()
    cfg["snap"]["bursts"] = "all"
    with pytest.raises(GptNotFoundError, match=r"interferogram\.snap\.gpt"):
        process_pair(tmp_path / "pairs" / "ev1.json", {"id": "ev1"}, "IW2", [REF_ZIP, SEC_ZIP],
                     tmp_path / "o.h5", cfg, tmp_path / "w", log)
    assert "GptNotFoundError" in log.read_text()
    assert not (tmp_path / "o.h5").exists()
    nopair = tmp_path / "np.json"
    nopair.write_text(json.dumps({"status": "no_pair", "reason": "no post-event acquisition", "pairs": []}))
    with pytest.raises(ValueError, match="no post-event acquisition"):
        process_pair(nopair, {"id": "ev1"}, "IW2", [REF_ZIP, SEC_ZIP], tmp_path / "o.h5", cfg, tmp_path / "w", log)
