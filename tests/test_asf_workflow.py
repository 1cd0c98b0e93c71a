"""The ASF rules inside Snakemake: search checkpoint -> subswaths -> downloads -> SNAP interferogram inputs.

ASF cannot be reached from tests, so the search checkpoint's outputs are produced by the same
library call the rule makes, on recorded ASF responses (test_asf_search.py), with the download
URLs pointed at a local HTTP server on 127.0.0.1; Snakemake then plans the rest of the DAG from
them, and runs the real download jobs (script, lock, verification) against that server.
"""

from __future__ import annotations

import csv
import hashlib
import http.server
import json
import os
import re
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from test_asf_search import CFG, P0, SLC_STACK, event, fake_geo_search, load_products  # noqa: E402

from quakesar.asf import search as asf_search_mod  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "tests" / "fixtures" / "catalog" / "comcat_small.csv"
EVENTS = ("nn00725272", "us7000df40")
PAYLOAD = b"".join(hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(4000))

pytestmark = pytest.mark.slow


def snakemake(work: Path, *args: str, extra_config: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("snakemake")
    configs = [str(ROOT / "config" / "sentinel1.yaml"), str(work / "override.yaml")] + ([str(extra_config)] if extra_config else [])
    cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "snakemake"]),
           *args, "-s", str(ROOT / "Snakefile"), "-d", str(work), "--cores", "2", "--workflow-profile", "none",
           "--configfile", *configs]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=work, env={**os.environ, "PYTHONHASHSEED": "0"})
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def planned(text: str) -> list[str]:
    return re.findall(r"^(?:local)?(?:rule|checkpoint) (\w+):", text, flags=re.M)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("asfwf")
    rows = list(csv.reader(CATALOG.open()))
    keep = [rows[0]] + [r for r in rows[1:] if r[11] in EVENTS]
    assert len(keep) == 3, "the catalog fixture must hold both events"
    with (work / "catalog.csv").open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(keep)
    srv_dir = work / "srv"
    srv_dir.mkdir()
    (srv_dir / "slc.zip").write_bytes(PAYLOAD)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(http.server.SimpleHTTPRequestHandler, directory=str(srv_dir)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    override = {"results": "results", "catalog": {"path": "catalog.csv", "event_ids": list(EVENTS)},
                "download": {"dir": "slc"}}
    (work / "override.yaml").write_text(yaml.safe_dump(override))
    snakemake(work, "results/catalog/events.csv")  # the catalog stage: events.csv and the records
    assert all((work / "results" / "catalog" / "events" / f"{e}.json").is_file() for e in EVENTS)
    # the search checkpoint's outputs, made by the rule's library call on recorded ASF responses
    search = fake_geo_search(load_products(SLC_STACK))
    doc = asf_search_mod.search_event(event("2020-05-10T12:00:00Z", *P0, eid="nn00725272"), CFG,
                                      work / "results" / "pairs" / "nn00725272.json", search_fn=search)
    for role in ("reference", "secondary"):
        doc["pairs"][0][role].update(url=f"http://127.0.0.1:{httpd.server_address[1]}/slc.zip", bytes=len(PAYLOAD),
                                     md5=hashlib.md5(PAYLOAD).hexdigest())
    doc["pairs"][0]["subswaths"], doc["pairs"][0]["bursts"] = ["IW2", "IW3"], {"IW2": [1], "IW3": [2]}
    (work / "results" / "pairs" / "nn00725272.json").write_text(json.dumps(doc))
    asf_search_mod.search_event(event("2016-03-01T00:00:00Z", *P0, eid="us7000df40"), CFG,
                                work / "results" / "pairs" / "us7000df40.json", search_fn=search)
    yield work, doc
    httpd.shutdown()
    httpd.server_close()


def test_dag_from_the_pairs_files(workdir):
    work, doc = workdir
    ref, sec = doc["pairs"][0]["granules"]
    out = snakemake(work, "-n", "-p", "results/interferograms/nn00725272/IW3.h5", "results/interferograms/nn00725272/IW2.h5")
    text = out.stdout + out.stderr
    jobs = planned(text)
    assert sorted(jobs) == ["download", "download", "interferogram", "interferogram"]
    # one SNAP job per subswath, each with its own work directory and both SLCs (reference first)
    for iw in ("IW2", "IW3"):
        assert (f"-m quakesar.interferogram.rule snap" in text and f"--subswaths {iw}" in text
                and f"--workdir results/work/snap/nn00725272/{iw}" in text), text[-3000:]
    assert f"--slcs slc/{ref}.zip slc/{sec}.zip" in text
    assert f"slc/{ref}.zip" in text and f"slc/{sec}.zip" in text and "download_slots=1" in text
    # the searches are not re-run; an event without a pair has nothing to process, and says why
    assert json.loads((work / "results" / "pairs" / "us7000df40.json").read_text())["status"] == "no_pair"
    proc = snakemake(work, "-n", "results/interferograms/us7000df40/IW1.h5", check=False)
    assert proc.returncode != 0 and "event us7000df40 has no pair" in proc.stdout + proc.stderr


def test_download_jobs_fetch_and_verify(workdir):
    work, doc = workdir
    targets = [f"slc/{g}.zip" for g in doc["pairs"][0]["granules"]]
    snakemake(work, *targets)
    for t in targets:
        assert (work / t).read_bytes() == PAYLOAD
        log = (work / "logs" / "download" / f"{Path(t).stem}.log").read_text()
        assert "downloaded and verified" in log and "MD5 ok" in log


def test_burst_products_with_snap_stop_with_a_clear_message(workdir):
    work, _ = workdir
    cfg = work / "burst.yaml"
    cfg.write_text(yaml.safe_dump({"search": {"burst_products": True}}))
    proc = snakemake(work, "-n", "results/interferograms/nn00725272/IW3.h5", extra_config=cfg, check=False)
    assert proc.returncode != 0 and "search.burst_products" in proc.stdout + proc.stderr
