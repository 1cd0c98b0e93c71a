"""Conda environments, rule directives and execution profiles (docs/scale-out.md).

What these tests prove, without conda or a cluster (neither exists on the CI machine; the SLURM
run itself is tests/test_slurm.py):

* every ``envs/*.yaml`` parses as a conda environment on conda-forge, and each has a
  ``.post-deploy.sh`` that installs this checkout of quakesar (Snakemake runs it after creating
  the environment; the installer is exercised for real in a throw-away virtual environment);
* the lower bounds in the environment files equal those in ``pyproject.toml``, and every runtime
  dependency of the package is provided by some environment;
* the workflow, loaded by Snakemake itself on the tiny config, gives every rule ``log:`` and
  ``benchmark:`` directives and every rule that can have one (``script:``/``shell:``) a
  ``conda:`` environment that exists; the third-party modules each rule's script imports
  (followed through the quakesar modules it uses) are all in that environment;
* the SLURM profile names only rules that exist, sizes every submitted rule, gives the training
  rules a GPU and caps downloads, and the workflow profile ``profiles/default`` (loaded on top of
  every ``--profile``) does not clobber it.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
ENVS = ROOT / "envs"
SRC = ROOT / "src"
TEST_CONFIG = ROOT / ".test" / "config.yaml"

# conda-forge package name -> PyPI distribution name, where they differ.
CONDA_TO_PYPI = {
    "pytorch": "torch",
    "matplotlib-base": "matplotlib",
    "asf_search": "asf-search",
}
# Imported top-level module -> conda-forge package (or PyPI name when it comes from the pip section).
MODULE_TO_PACKAGE = {
    "numpy": "numpy",
    "scipy": "scipy",
    "pandas": "pandas",
    "h5py": "h5py",
    "yaml": "pyyaml",
    "jsonschema": "jsonschema",
    "pyproj": "pyproj",
    "shapely": "shapely",
    "matplotlib": "matplotlib-base",
    "requests": "requests",
    "tqdm": "tqdm",
    "global_land_mask": "global-land-mask",
    "skimage": "scikit-image",
    "tifffile": "tifffile",
    "asf_search": "asf_search",
    "torch": "pytorch",
    "torchvision": "torchvision",
    "timm": "timm",
    "tensorboard": "tensorboard",
    "rasterio": "rasterio",
    "eof": "sentineleof",
    "packaging": "packaging",
    "PIL": "pillow",
    "safetensors": "safetensors",
    "huggingface_hub": "huggingface_hub",
}
# Packages every environment gets as dependencies of others (no need to list them).
IMPLIED = {
    "packaging": {"matplotlib-base", "scikit-image", "pytorch"},
    "pillow": {"matplotlib-base"},
    "safetensors": {"timm"},  # timm requires safetensors and huggingface_hub
    "huggingface_hub": {"timm"},
}
# Imports that are optional by design: only used when the named external tool is installed.
OPTIONAL_MODULES = {
    "esa_snappy": "SNAP's Python bridge, present only with a SNAP install (separate, docs/scale-out.md)",
    "snappy": "old name of SNAP's Python bridge",
    "snaphu": "optional unwrapper (interferogram.unwrap: snaphu); its binary is non-commercial",
    "snakemake": "the workflow engine itself, never imported by the library at run time",
}


# ----------------------------------------------------------------------------- helpers


def _env_files() -> list[Path]:
    return sorted(ENVS.glob("*.yaml"))


def _load_env(path: Path) -> dict:
    with open(path) as fh:
        env = yaml.safe_load(fh)
    if not isinstance(env, dict):
        raise AssertionError(f"{path}: expected a mapping with name/channels/dependencies")
    return env


def _env_packages(path: Path) -> dict[str, Requirement]:
    """Package name -> requirement for the conda and pip entries of an environment file."""
    out: dict[str, Requirement] = {}
    for dep in _load_env(path)["dependencies"]:
        entries = dep["pip"] if isinstance(dep, dict) else [dep]
        for entry in entries:
            # conda writes "name >=1.2" (space allowed); PEP 508 wants no space: same meaning.
            req = Requirement(re.sub(r"\s+", "", str(entry)))
            out[req.name.lower()] = req
    return out


def _lower_bound(req: Requirement) -> str | None:
    bounds = [s.version for s in req.specifier if s.operator == ">="]
    return bounds[0] if len(bounds) == 1 else None


@lru_cache(maxsize=1)
def _pyproject_requirements() -> dict[str, Requirement]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"].get("optional-dependencies", {}).values():
        reqs.extend(extra)
    out: dict[str, Requirement] = {}
    for text in reqs:
        req = Requirement(text)
        out.setdefault(req.name.lower(), req)
    return out


@pytest.fixture(scope="module")
def workflow():
    """The workflow as Snakemake itself parses it (tiny config, no DAG, no jobs run)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        ConfigSettings,
        DeploymentSettings,
        OutputSettings,
        ResourceSettings,
        StorageSettings,
        WorkflowSettings,
    )

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with SnakemakeApi(OutputSettings()) as api:
            wapi = api.workflow(
                snakefile=ROOT / "Snakefile",
                workdir=ROOT,
                config_settings=ConfigSettings(configfiles=[TEST_CONFIG]),
                resource_settings=ResourceSettings(cores=1),
                storage_settings=StorageSettings(),
                workflow_settings=WorkflowSettings(),
                deployment_settings=DeploymentSettings(),
            )
            # WorkflowApi has no public accessor for the parsed rules; `_workflow` parses the
            # Snakefile (includes, config validation) exactly as `snakemake` does, without a DAG.
            yield wapi._workflow
    finally:
        os.chdir(cwd)


def _is_target_only(rule) -> bool:
    """`rule all`-like rules: only input, nothing executed."""
    return rule.norun and not rule.output


def _rule_env_path(rule) -> Path | None:
    if not rule.conda_env:
        return None
    return (Path(rule.snakefile).parent / str(rule.conda_env)).resolve()


def _parse_profile(path: Path, env: dict[str, str] | None = None) -> dict:
    """A profile as Snakemake reads it (yte templating, key=value lists)."""
    from snakemake.profiles import ProfileConfigFileParser

    saved = dict(os.environ)
    try:
        for key in list(os.environ):
            if key.startswith("QUAKESAR_SLURM_"):
                del os.environ[key]
        os.environ.update(env or {})
        with open(path) as fh:
            return dict(ProfileConfigFileParser().parse(fh))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _kv(items: list[str]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in items)


def _rule_kv(items: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for item in items:
        rule, rest = item.split(":", 1)
        key, value = rest.split("=", 1)
        out.setdefault(rule, {})[key] = value
    return out


# ----------------------------------------------------------------------------- environment files


def test_env_files_parse_and_install_quakesar():
    files = _env_files()
    names = {p.stem for p in files}
    assert {"catalog", "simulate", "interferogram", "asf", "patches", "learning"} <= names, names
    python_req = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    for path in files:
        env = _load_env(path)
        assert env.get("name") == f"quakesar-{path.stem}", f"{path}: name"
        assert env.get("channels", [None])[0] == "conda-forge", f"{path}: conda-forge must come first"
        assert "defaults" not in env["channels"], f"{path}: the defaults channel is not allowed"
        pkgs = _env_packages(path)  # raises on any malformed entry
        assert str(pkgs["python"].specifier) == python_req, f"{path}: python must be {python_req}"
        assert "pip" in pkgs and "setuptools" in pkgs, f"{path}: pip/setuptools needed to install quakesar"
        hook = path.with_suffix(".post-deploy.sh")
        assert hook.is_file(), f"{hook} missing: quakesar would not be installed in {path.name}"
        assert "install-quakesar.sh" in hook.read_text(), f"{hook} must call envs/install-quakesar.sh"


def test_env_pins_agree_with_pyproject():
    project = _pyproject_requirements()
    provided: set[str] = set()
    for path in _env_files():
        for name, req in _env_packages(path).items():
            pypi = CONDA_TO_PYPI.get(name, name)
            if pypi not in project:
                continue
            provided.add(pypi)
            want, got = _lower_bound(project[pypi]), _lower_bound(req)
            assert got == want, (
                f"{path.name}: {name} lower bound {got!r} differs from pyproject.toml's {pypi} {want!r}"
            )
    core = {Requirement(r).name.lower() for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    missing = sorted(core - provided)
    assert not missing, f"runtime dependencies of quakesar in no environment: {missing}"


def test_env_pin_check_catches_a_wrong_bound(tmp_path, monkeypatch):
    """The pin comparison above can fail: a drifted bound is reported with file and package."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: quakesar-bad\nchannels: [conda-forge]\ndependencies:\n  - numpy >=1.20\n")
    req = _env_packages(bad)["numpy"]
    assert _lower_bound(req) == "1.20" != _lower_bound(_pyproject_requirements()["numpy"])


def test_install_script_installs_the_checkout(tmp_path):
    """envs/install-quakesar.sh, run as Snakemake runs the post-deploy hook (the new environment's
    `python` first on PATH, any working directory), installs this checkout so that
    `import quakesar` in that environment resolves to src/. No conda here: a fresh virtual
    environment stands in, with pip from ensurepip and the build backend (setuptools, as the env
    files pin it) made visible offline; the test's own environment is not visible to it."""
    import setuptools

    target = tmp_path / "env"
    venv.EnvBuilder(system_site_packages=False, with_pip=True).create(target)
    tools = tmp_path / "buildtools"
    tools.mkdir()
    site = Path(setuptools.__file__).resolve().parents[1]
    for entry in site.iterdir():
        if entry.name.startswith(("setuptools", "_distutils_hack", "pkg_resources", "wheel")):
            (tools / entry.name).symlink_to(entry)
    (site_dir,) = (target / "lib").glob("python3*/site-packages")
    for entry in site_dir.iterdir():  # ensurepip of 3.11 also drops an old setuptools there
        if entry.name.startswith(("setuptools", "_distutils_hack", "pkg_resources", "distutils-precedence")):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    (site_dir / "buildtools.pth").write_text(f"{tools}\n")
    env = dict(os.environ, PATH=f"{target / 'bin'}:{os.environ['PATH']}", PIP_NO_INDEX="1")
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    hook = ENVS / "catalog.post-deploy.sh"
    proc = subprocess.run(["bash", str(hook)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"installed from {SRC / 'quakesar'}" in proc.stdout, proc.stdout
    out = subprocess.run(
        [str(target / "bin" / "python"), "-c", "import quakesar; print(quakesar.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert out.stdout.strip().startswith(str(SRC / "quakesar")), out.stdout + out.stderr
    # --no-deps: the package's dependencies (e.g. torch) are the env file's business
    pip_list = subprocess.run(
        [str(target / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        env=env, capture_output=True, text=True, timeout=60,
    ).stdout
    assert "quakesar==" in pip_list and "torch" not in pip_list, pip_list


# ----------------------------------------------------------------------------- rule directives


def test_every_rule_has_log_benchmark_and_conda(workflow):
    rules = list(workflow.rules)
    assert len(rules) >= 2, "the workflow defines no rules"
    results = workflow.config["results"]
    problems = []
    for rule in rules:
        if _is_target_only(rule):
            continue
        where = f"rule {rule.name} ({Path(rule.snakefile).relative_to(ROOT)})"
        if not rule.log:
            problems.append(f"{where}: no log: directive")
        if not rule.benchmark:
            problems.append(f"{where}: no benchmark: directive")
        elif not str(rule.benchmark).startswith(f"{results}/benchmarks/"):
            problems.append(f"{where}: benchmark {rule.benchmark} not under {results}/benchmarks/")
        if rule.is_run:
            # Snakemake allows no conda: with run: (the code runs in the main process).
            continue
        env = _rule_env_path(rule)
        if env is None:
            problems.append(f"{where}: no conda: directive")
        elif not env.is_file():
            problems.append(f"{where}: conda env {rule.conda_env} does not exist ({env})")
        elif env.parent != ENVS:
            problems.append(f"{where}: conda env {env} is not in envs/")
    assert not problems, "\n".join(problems)


def _module_file(module: str) -> Path | None:
    base = SRC.joinpath(*module.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _imports(path: Path, package: str | None) -> set[str]:
    """Modules imported by a file, except imports guarded by `except ImportError`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            h.type is not None and "ImportError" in ast.unparse(h.type) for h in node.handlers
        ):
            for sub in node.body:
                for inner in ast.walk(sub):
                    guarded.add(id(inner))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level and package:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            found.add(mod)
            # `from quakesar.x import y` may import submodule y
            found.update(f"{mod}.{alias.name}" for alias in node.names)
    return found


def _third_party_closure(script: Path) -> set[str]:
    """Top-level third-party modules reachable from a rule script through quakesar's modules."""
    seen: set[str] = set()
    third: set[str] = set()
    todo: list[tuple[Path, str | None]] = [(script, None)]
    while todo:
        path, package = todo.pop()
        for mod in _imports(path, package):
            top = mod.split(".")[0]
            if not top or top in sys.stdlib_module_names or top == "__future__":
                continue
            if top != "quakesar":
                third.add(top)
                continue
            parts = mod.split(".")
            for i in range(1, len(parts) + 1):  # parent packages run their __init__ too
                name = ".".join(parts[:i])
                if name in seen:
                    continue
                seen.add(name)
                file = _module_file(name)
                if file is not None:
                    pkg = name if file.name == "__init__.py" else name.rpartition(".")[0]
                    todo.append((file, pkg))
    return third


def _rule_entry(rule, tmp_path: Path) -> Path | None:
    """The Python file a rule runs: its ``script:``, or for a ``shell:`` rule that runs
    ``$QUAKESAR_PYTHON -m quakesar.<module>`` a stand-in file importing that module (parent packages included)."""
    if rule.script:
        return (Path(rule.snakefile).parent / str(rule.script)).resolve()
    m = re.search(r"-m (quakesar(?:\.\w+)+)", str(rule.shellcmd or ""))
    if m is None:
        return None
    assert _module_file(m.group(1)) is not None, f"rule {rule.name}: module {m.group(1)} does not exist"
    stand_in = tmp_path / f"{rule.name}_entry.py"
    stand_in.write_text(f"import {m.group(1)}\n")
    return stand_in


def test_per_event_rules_run_quakesar_modules(workflow):
    """The per-event rules are shell: commands running quakesar modules, not script: files: Snakemake
    reads a rule's script once per job while planning (~1 ms per job, docs/scale-out.md)."""
    for name in ("simulate", "interferogram", "patches"):
        rule = workflow.get_rule(name)
        assert not rule.script and "$QUAKESAR_PYTHON -m quakesar." in str(rule.shellcmd), name


def test_rule_scripts_import_only_what_their_env_provides(workflow, tmp_path):
    problems = []
    checked = 0
    for rule in workflow.rules:
        if rule.is_run:
            continue
        entry = _rule_entry(rule, tmp_path)
        if entry is None:
            continue
        env = _rule_env_path(rule)
        if env is None or not env.is_file():
            continue  # reported by test_every_rule_has_log_benchmark_and_conda
        pkgs = set(_env_packages(env))
        checked += 1
        for module in sorted(_third_party_closure(entry)):
            if module in OPTIONAL_MODULES:
                continue
            pkg = MODULE_TO_PACKAGE.get(module)
            if pkg is None:
                problems.append(f"rule {rule.name}: import {module!r} has no known package (add it to MODULE_TO_PACKAGE)")
            elif pkg not in pkgs and not (IMPLIED.get(pkg, set()) & pkgs):
                problems.append(f"rule {rule.name}: imports {module!r} but {env.name} lacks {pkg}")
    assert checked, "no rule with script: and a conda env found"
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------------- profiles


def test_slurm_profile_covers_the_rules(workflow):
    prof = _parse_profile(ROOT / "profiles" / "slurm" / "config.yaml")
    assert prof["executor"] == "slurm"
    assert prof["slurm-status-command"] in {"squeue", "sacct"}
    rules = {r.name: r for r in workflow.rules}
    resources = _rule_kv(prof["set-resources"])
    threads = _kv(prof.get("set-threads", []))
    snap = _parse_profile(ROOT / "profiles" / "slurm" / "config.yaml", {"QUAKESAR_SLURM_BACKEND": "snap"})
    threads.update(_kv(snap.get("set-threads", [])))
    groups = _kv(prof["groups"])
    unknown = sorted((set(resources) | set(threads) | set(groups)) - set(rules))
    assert not unknown, f"profiles/slurm names rules the workflow does not define: {unknown}"
    submitted = [
        name for name, r in rules.items()
        if not _is_target_only(r) and not workflow.is_local(r)
    ]
    for name in submitted:
        assert {"runtime", "mem_mb"} <= set(resources.get(name, {})), f"rule {name}: no runtime/mem_mb in profiles/slurm"
    for name in ("train",):
        if name in rules:
            assert resources[name].get("gpu") == "1", f"rule {name} must request a GPU"
    if "download" in rules:
        assert resources["download"].get("download_slots") == "1"
    assert set(_kv(prof["group-components"])) == set(groups.values())


def test_slurm_profile_placeholders_come_from_the_environment():
    path = ROOT / "profiles" / "slurm" / "config.yaml"
    plain = _parse_profile(path)
    assert str(plain["slurm-no-account"]).lower() == "true"
    assert "slurm_partition=debug" in plain["default-resources"]
    site = _parse_profile(path, {"QUAKESAR_SLURM_PARTITION": "cpu", "QUAKESAR_SLURM_ACCOUNT": "geo42",
                                 "QUAKESAR_SLURM_GPU_PARTITION": "gpu", "QUAKESAR_SLURM_EVENTS_PER_JOB": "7"})
    assert str(site["slurm-no-account"]).lower() == "false"
    assert {"slurm_partition=cpu", "slurm_account=geo42"} <= set(site["default-resources"])
    assert _rule_kv(site["set-resources"])["train"]["slurm_partition"] == "gpu"
    assert _kv(site["group-components"])["event"] == "7"


def test_workflow_profile_does_not_clobber_the_slurm_profile():
    """profiles/default is loaded on top of every --profile and replaces whole keys: it may only
    repeat the SLURM profile's values, never replace its per-rule tables."""
    default = _parse_profile(ROOT / "profiles" / "default" / "config.yaml")
    slurm = _parse_profile(ROOT / "profiles" / "slurm" / "config.yaml")
    for key in ("set-resources", "set-threads", "default-resources", "groups", "group-components", "executor", "jobs"):
        assert key not in default, f"profiles/default sets {key}: it would replace profiles/slurm's"
    for key in set(default) & set(slurm):
        assert default[key] == slurm[key], f"{key}: profiles/default {default[key]} vs profiles/slurm {slurm[key]}"
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    max_dl = schema["properties"]["download"]["properties"]["max_concurrent"]["default"]
    assert _kv(default["resources"])["download_slots"] == str(max_dl)
