"""Dataset: leak-free grouped splits, train-only statistics, lazy worker-safe PyTorch access, consistent augmentation.

Patches are tiled from synthetic canonical interferograms (:mod:`quakesar.patches.synthetic`) with
exact WGS84 geolocation; the augmentation test recomputes the flipped epicentre independently from
that pixel geolocation (not from the patch corners the implementation uses).
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pyproj
import pytest
import scipy.optimize
import torch

from quakesar.dataset.augment import Dihedral
from quakesar.dataset.index import build_dataset
from quakesar.dataset.torchdata import PatchDataset
from quakesar.patches.synthetic import make_interferogram, pixel_latlon
from quakesar.patches.tiling import tile_event

GEOD = pyproj.Geod(ellps="WGS84")


def _event(eid: str, lat: float, lon: float, mag: float, time: str) -> dict:
    return dict(id=eid, latitude=lat, longitude=lon, magnitude=mag, magnitude_type="mww", mw=mag, depth_km=10.0,
                time=time)


# id: (frame lat0, lon0, scene id, reference, secondary, magnitude)
EVENTS = {
    # a mainshock and its aftershock imaged by the same pair -> one group
    "main1": (10.0, 20.0, "pairA", "2020-01-01", "2020-01-13", 7.0),
    "after1": (10.0, 20.0, "pairA", "2020-01-01", "2020-01-13", 5.6),
    # a later aftershock on another pair whose footprint and window overlap pairA's -> same group
    "after2": (10.01, 20.01, "pairB", "2020-01-07", "2020-01-19", 5.8),
    # same place but years later: different group for event/temporal hold-out, same for spatial
    "later": (10.01, 20.015, "pairC", "2023-05-01", "2023-05-13", 6.1),
}
for k in range(12):
    EVENTS[f"solo{k:02d}"] = (-30.0 + 5 * k, -60.0 + 8 * k, f"pair{k:02d}", f"2019-{k % 12 + 1:02d}-01",
                              f"2019-{k % 12 + 1:02d}-13", 5.5 + 0.15 * k)


@pytest.fixture(scope="module")
def patch_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("patchset")
    csvs = []
    for k, (eid, (lat0, lon0, scene, t0, t1, mag)) in enumerate(sorted(EVENTS.items())):
        ifg = root / "ifg" / eid / "IW1.h5"
        ifg.parent.mkdir(parents=True)
        rng = np.random.default_rng(k)
        make_interferogram(ifg, 200, 300, lat0=lat0, lon0=lon0, scene_id=scene, reference_time=f"{t0}T03:00:00Z",
                           secondary_time=f"{t1}T03:00:00Z", event_id=eid, amplitude=1.0 + k,
                           phase=lambda r, c, s=rng.uniform(0.01, 0.05): s * c + 0 * r,
                           truth_los_m=np.full((200, 300), 0.002 * k, np.float32))
        ev = _event(eid, lat0 + 0.03, lon0 + 0.02, mag, f"{t0[:8]}05T00:00:00Z")
        tile_event(ev, [ifg], {"window": 100, "size": 8}, root / "patches" / f"{eid}.h5", root / "patches" / f"{eid}.csv")
        csvs.append(root / "patches" / f"{eid}.csv")
    # an event without interferograms
    tile_event(_event("nodata", 0.0, 0.0, 6.0, "2021-01-01T00:00:00Z"), [], {"window": 100, "size": 8},
               root / "patches" / "nodata.h5", root / "patches" / "nodata.csv")
    csvs.append(root / "patches" / "nodata.csv")
    return root, csvs


@pytest.mark.parametrize("holdout", ["event", "temporal", "spatial"])
def test_no_event_and_no_scene_in_two_splits(patch_set: tuple[Path, list[Path]], holdout: str) -> None:
    root, csvs = patch_set
    out = root / f"ds_{holdout}"
    build_dataset(csvs, {"holdout": holdout}, 7, out)
    index = pd.read_csv(out / "index.csv", dtype={"event_id": str, "scene_id": str})
    assert set(index.split) <= {"train", "val", "test"} and index.split.notna().all()
    assert (index.groupby("event_id").split.nunique() == 1).all()
    assert (index.groupby("scene_id").split.nunique() == 1).all()
    assert (index.groupby("group_id").split.nunique() == 1).all()
    groups = index.groupby("event_id").group_id.first()
    assert groups["main1"] == groups["after1"] == groups["after2"]           # aftershock sequence kept together
    if holdout == "spatial":
        assert groups["later"] == groups["main1"]                            # same ground, any time
    else:
        assert groups["later"] != groups["main1"]
    assert set(index.split) == {"train", "val", "test"}
    splits = json.loads((out / "splits.json").read_text())
    assert splits["events_without_patches"] == ["nodata"]
    seen = [e for s in ("train", "val", "test") for e in splits[s]["events"]]
    assert len(seen) == len(set(seen)) == len(EVENTS)
    if holdout == "temporal":
        t = index.assign(t=pd.to_datetime(index.event_time)).groupby("split").t
        assert t.max()["train"] <= t.min()["val"] and t.max()["val"] <= t.min()["test"]
    # deterministic for a seed
    build_dataset(csvs, {"holdout": holdout}, 7, root / f"again_{holdout}")
    assert (root / f"again_{holdout}" / "splits.json").read_text() == (out / "splits.json").read_text()


def test_event_split_is_stratified_and_seeded(patch_set: tuple[Path, list[Path]]) -> None:
    root, csvs = patch_set
    cfg = {"holdout": "event", "magnitude_bins": 2, "fractions": {"train": 0.6, "val": 0.2, "test": 0.2}}
    seen = set()
    for seed in range(4):
        build_dataset(csvs, cfg, seed, root / f"strat{seed}")
        index = pd.read_csv(root / f"strat{seed}" / "index.csv")
        per_event = index.groupby("event_id").agg(split=("split", "first"), mag=("magnitude", "first"))
        med = per_event.mag.median()
        # both magnitude halves reach training
        assert (per_event[per_event.split == "train"].mag > med).any()
        assert (per_event[per_event.split == "train"].mag <= med).any()
        frac = index.split.value_counts(normalize=True)
        assert 0.4 <= frac["train"] <= 0.8
        seen.add(tuple(per_event.split))
    assert len(seen) > 1   # the seed matters


def test_norm_stats_come_from_train_only(patch_set: tuple[Path, list[Path]]) -> None:
    root, csvs = patch_set
    out = root / "ds_norm"
    build_dataset(csvs, {}, 3, out)
    index = pd.read_csv(out / "index.csv")
    stats = json.loads((out / "norm_stats.json").read_text())
    assert stats["computed_on"] == "train"
    xs = {}
    for split in ("train", "test"):
        rows = index[index.split == split]
        xs[split] = np.concatenate([h5py.File(out / p, "r")["patches"][int(i)][None] for p, i in zip(rows.h5_path, rows.h5_index)])
    assert np.allclose(stats["channels"]["mean"], xs["train"].astype(np.float64).mean(axis=(0, 2, 3)), rtol=1e-6, atol=1e-9)
    std = xs["train"].astype(np.float64).std(axis=(0, 2, 3))
    assert np.allclose(stats["channels"]["std"], np.where(std > 0, std, 1.0), rtol=1e-5)
    assert not np.allclose(stats["channels"]["std"][1:], xs["test"].std(axis=(0, 2, 3))[1:], rtol=1e-2)
    train = index[index.split == "train"]
    assert stats["targets"]["magnitude"]["mean"] == pytest.approx(train.magnitude.mean())
    assert stats["targets"]["distance_km"]["count"] == len(train)


def test_rebuild_leaves_dataset_files_untouched(patch_set: tuple[Path, list[Path]]) -> None:
    root, csvs = patch_set
    out = root / "ds_idem"
    build_dataset(csvs, {}, 5, out)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    build_dataset(csvs, {}, 5, out)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert sorted(before) == ["index.csv", "norm_stats.json", "splits.json", "summary.json"]


def test_patch_dataset_items_and_worker_safe_handles(patch_set: tuple[Path, list[Path]]) -> None:
    root, csvs = patch_set
    out = root / "ds_torch"
    build_dataset(csvs, {}, 11, out)
    index = pd.read_csv(out / "index.csv")
    stats = json.loads((out / "norm_stats.json").read_text())
    sizes = 0
    for split in ("train", "val", "test"):
        ds = PatchDataset(out / "index.csv", split, ["magnitude", "epicentre"], out / "norm_stats.json")
        sizes += len(ds)
        x, t, row = ds[0]
        assert x.dtype == torch.float32 and x.shape == (3, 8, 8)
        assert set(t) == {"distance_km", "east_km", "north_km", "magnitude", "deformation"}
        r = index.iloc[row]
        assert r.split == split
        raw = h5py.File(out / r.h5_path, "r")["patches"][int(r.h5_index)]
        mean, std = (np.asarray(stats["channels"][k])[:, None, None] for k in ("mean", "std"))
        assert np.allclose(x.numpy(), (raw - mean) / std, atol=1e-5)
        assert t["distance_km"].item() == pytest.approx(r.distance_km, rel=1e-6)
        assert t["magnitude"].item() == pytest.approx(r.magnitude)
    assert sizes == len(index)
    ds = PatchDataset(out / "index.csv", "train", None, out / "norm_stats.json", latlon_planes=True)
    _ = ds[0]  # opens a handle in the parent: workers must not reuse it
    serial = [ds[k] for k in range(len(ds))]
    loader = torch.utils.data.DataLoader(ds, batch_size=5, num_workers=2, shuffle=False)
    xs, rows = zip(*[(b[0], b[2]) for b in loader])
    assert torch.equal(torch.cat(xs), torch.stack([s[0] for s in serial]))
    assert torch.cat(rows).tolist() == [s[2] for s in serial]
    x, _, row = serial[0]
    assert x.shape == (5, 8, 8)
    assert torch.allclose(x[3], torch.full((8, 8), index.center_lat[row] / 90.0))
    assert torch.allclose(x[4], torch.full((8, 8), index.center_lon[row] / 180.0))
    with pytest.raises(ValueError, match="task"):
        PatchDataset(out / "index.csv", "train", ["colour"], None)


def _pixel_of(lat: float, lon: float, geo: tuple) -> np.ndarray:
    """Fractional (row, col) of a ground point in the synthetic geometry (independent inversion)."""
    def resid(rc: np.ndarray) -> np.ndarray:
        la, lo = pixel_latlon(np.array(rc[0]), np.array(rc[1]), *geo)
        return np.array([(la - lat) * 111_000.0, (lo - lon) * 111_000.0 * np.cos(np.radians(lat))])
    return scipy.optimize.least_squares(resid, x0=np.array([0.0, 0.0]), xtol=1e-12, ftol=1e-12).x


@pytest.mark.parametrize("heading", [-12.0, -168.0, 35.0])
def test_augmented_labels_match_an_independent_recomputation(tmp_path: Path, heading: float) -> None:
    geo = (35.0, 40.0, heading, 14.0, 15.0)   # lat0, lon0, heading, azimuth and range spacing
    make_interferogram(tmp_path / "IW1.h5", 600, 600, lat0=geo[0], lon0=geo[1], heading_deg=heading,
                       azimuth_spacing_m=geo[3], range_spacing_m=geo[4], phase=lambda r, c: 0.02 * r + 0.05 * c)
    elon, elat, _ = GEOD.fwd(geo[1], geo[0], heading + 70.0, 12_000.0)   # epicentre ~ 12 km from the frame corner
    tile_event(_event("e1", elat, elon, 6.0, "2020-01-05T00:00:00Z"), [tmp_path / "IW1.h5"],
               {"window": 200, "size": 16}, tmp_path / "p" / "e1.h5", tmp_path / "p" / "e1.csv")
    build_dataset([tmp_path / "p" / "e1.csv"], {"fractions": {"train": 1.0, "val": 0.0, "test": 0.0}}, 0, tmp_path / "d")
    plain = PatchDataset(tmp_path / "d" / "index.csv", "train", None, None)
    aug = PatchDataset(tmp_path / "d" / "index.csv", "train", None, None, augment=True, seed=3)
    index = pd.read_csv(tmp_path / "d" / "index.csv")
    re, ce = _pixel_of(elat, elon, geo)
    used = set()
    for k in range(len(aug)):
        for code in range(8):
            t = Dihedral.from_index(code)
            aug.transform_for = lambda _k, t=t: t   # force the transform under test
            x0, t0, row = plain[k]
            x1, t1, _ = aug[k]
            used.add(code)
            assert torch.equal(x1, torch.from_numpy(t.apply_image(x0.numpy())))
            p = index.iloc[row]
            # independent: move the epicentre's pixel position as the image transform moves pixels
            cr, cc = (p.row0 + p.row1 - 1) / 2.0, (p.col0 + p.col1 - 1) / 2.0
            h = (p.row1 - p.row0) / 2.0
            u, v = (ce - cc) / h, (re - cr) / h
            u2, v2 = t.matrix() @ np.array([u, v])
            la2, lo2 = pixel_latlon(np.array(cr + v2 * h), np.array(cc + u2 * h), *geo)
            az, _, dist = GEOD.inv(p.center_lon, p.center_lat, float(lo2), float(la2))
            east, north = dist * np.sin(np.radians(az)) / 1000, dist * np.cos(np.radians(az)) / 1000
            tol = 1e-4 * dist / 1000 + 0.001   # measured agreement: ~3e-6 relative
            assert abs(t1["east_km"].item() - east) < tol and abs(t1["north_km"].item() - north) < tol, (code, k)
            assert abs(t1["distance_km"].item() - dist / 1000) < tol
            if code == 1:   # horizontal flip: the offset is mirrored, not copied
                assert abs(t1["east_km"].item() - t0["east_km"].item()) > 1.0 or \
                    abs(t1["north_km"].item() - t0["north_km"].item()) > 1.0
            assert t1["magnitude"].item() == t0["magnitude"].item()
    assert used == set(range(8))


def test_augmentation_draws_are_seeded_and_vary_by_epoch(patch_set: tuple[Path, list[Path]]) -> None:
    root, csvs = patch_set
    out = root / "ds_aug"
    build_dataset(csvs, {}, 1, out)
    a = PatchDataset(out / "index.csv", "train", None, None, augment=True, seed=5)
    b = PatchDataset(out / "index.csv", "train", None, None, augment=True, seed=5)
    draws = [a.transform_for(k) for k in range(len(a))]
    assert draws == [b.transform_for(k) for k in range(len(b))]
    assert len(set(draws)) > 3
    a.set_epoch(1)
    assert [a.transform_for(k) for k in range(len(a))] != draws


def test_grouping_rules_on_footprints_times_and_antimeridian() -> None:
    from quakesar.dataset.split import group_events

    def fp(eid, scene, s, n, w, e, t0, t1):
        return dict(event_id=eid, scene_id=scene, source_file="IW1.h5", footprint_south=s, footprint_north=n,
                    footprint_west=w, footprint_east=e, reference_time=t0, secondary_time=t1)
    rows = pd.DataFrame([
        fp("a", "p1", 0, 1, 179.5, -179.6, "2020-01-01", "2020-01-13"),   # crosses the antimeridian
        fp("b", "p2", 0.5, 1.5, -179.8, -179.0, "2020-01-10", "2020-01-22"),  # overlaps a across 180, same time
        fp("c", "p3", 0.5, 1.5, 179.0, 179.6, "2021-01-10", "2021-01-22"),  # overlaps a, a year later
        fp("d", "p4", 5, 6, 10, 11, "2020-01-01", "2020-01-13"),          # elsewhere, same time
        fp("e", "p4", 50, 51, 10, 11, "2019-01-01", "2019-01-13"),        # shares d's scene id
    ])
    g = group_events(rows, "event")
    assert g["a"] == g["b"] == "a" and g["c"] == "c" and g["d"] == g["e"] == "d"
    g = group_events(rows, "spatial")
    assert g["a"] == g["b"] == g["c"] and g["d"] == g["e"] != g["a"]


def test_handles_are_not_shared_across_processes(patch_set: tuple[Path, list[Path]]) -> None:
    """A handle opened in one process is never used in another: pickling drops it, a new pid reopens."""
    import pickle

    root, csvs = patch_set
    build_dataset(csvs, {}, 2, root / "ds_pid")
    ds = PatchDataset(root / "ds_pid" / "index.csv", "train", None, None)
    first = ds._patches(ds.paths[0])
    assert ds._patches(ds.paths[0]) is first
    assert pickle.loads(pickle.dumps(ds))._files == {}
    ds._pid = -1  # as seen from a forked worker
    assert ds._patches(ds.paths[0]) is not first


def test_cli_subcommands_call_the_stage_functions(tmp_path: Path) -> None:
    from quakesar.cli import main

    make_interferogram(tmp_path / "IW1.h5", 200, 200)
    record = tmp_path / "e9.json"
    record.write_text(json.dumps(_event("e9", 35.1, 40.1, 6.0, "2020-01-05T00:00:00Z")))
    sets = ["--set", "patches.window=100", "--set", "patches.size=10"]
    assert main([*sets, "patches", "--event", str(record), "--interferograms", str(tmp_path / "IW1.h5"),
                 "--out-dir", str(tmp_path / "p")]) == 0
    assert len(pd.read_csv(tmp_path / "p" / "e9.csv")) == 4
    assert main(["dataset", "--patches-dir", str(tmp_path / "p"), "--out-dir", str(tmp_path / "d")]) == 0
    assert len(pd.read_csv(tmp_path / "d" / "index.csv")) == 4
