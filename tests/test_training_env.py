"""The add-on's Set up Training: a real virtual environment made in a temporary user folder from this machine's
package cache; failures and cancels leave the previous environment usable."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("bpy")
from blender_addon import preferences, training_env  # noqa: E402  (the add-on package needs bpy)
from blender_addon.core.errors import RTIError  # noqa: E402

from .test_addon_jobs import ModalProbe  # noqa: E402


def run_job(job: training_env.SetupJob) -> None:
    """Drive a job to its end as the operator's timer does."""
    job.start()
    while not job.step():
        time.sleep(0.05)
    job.finish(None)


def pip_settings(monkeypatch: pytest.MonkeyPatch, **settings: str) -> None:
    """pip configured by ``settings`` alone: this machine's settings and local package cache gone."""
    for name in [n for n in os.environ if n.startswith("PIP_")]:
        monkeypatch.delenv(name)
    for name, value in {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_CACHE_DIR": "1", **settings}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tqdm==4.70.1\n")
    return requirements


def works(folder: Path) -> bool:
    python = training_env.installed(folder)
    return python is not None and subprocess.run([str(python), "-c", "import tqdm"]).returncode == 0


def test_setup_creates_a_working_environment_and_a_log(tmp_path: Path, small: Path) -> None:
    folder = tmp_path / "user" / training_env.NAME
    run_job(training_env.SetupJob(folder, requirements=small, check=("tqdm",)))
    assert works(folder) and (folder / "rti-setup.txt").read_text().startswith("cpu\n")
    log = folder.with_name(f"{folder.name}-setup.log").read_text()
    assert "-m venv" in log and "tqdm" in log
    assert sorted(p.name for p in folder.parent.iterdir()) == [training_env.NAME, f"{training_env.NAME}-setup.log"]


def test_running_setup_again_upgrades_the_environment(tmp_path: Path, small: Path) -> None:
    folder = tmp_path / training_env.NAME
    run_job(training_env.SetupJob(folder, requirements=small, check=("tqdm",)))
    newer = tmp_path / "newer.txt"
    newer.write_text("tqdm==4.70.1\nsortedcontainers==2.4.0\n")
    run_job(training_env.SetupJob(folder, requirements=newer, check=("tqdm", "sortedcontainers")))
    python = training_env.installed(folder)
    assert python is not None and subprocess.run([str(python), "-c", "import sortedcontainers"]).returncode == 0
    assert (folder / "rti-setup.txt").read_text() == "cpu\n" + newer.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["newer.txt", "requirements.txt", training_env.NAME, f"{training_env.NAME}-setup.log"])


@pytest.mark.parametrize("output, reason", [
    ("ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device",
     "not enough disk space to install the training packages"),
    ("WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken "
     "by 'NewConnectionError(\"<pip._vendor.urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish "
     "a new connection: [Errno -3] Temporary failure in name resolution\")': /simple/torch/\n"
     "ERROR: Could not find a version that satisfies the requirement torch==2.13.0 (from versions: none)\n"
     "ERROR: No matching distribution found for torch==2.13.0",
     "could not download the training packages (no network, or the package index cannot be reached)"),
    ("ERROR: Could not find a version that satisfies the requirement torch==2.13.0 (from versions: 2.0.0, 2.0.1)\n"
     "ERROR: No matching distribution found for torch==2.13.0",
     "the package index has no torch==2.13.0 for this computer (Python 3."),
    ("Collecting scipy==1.17.1\nERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.",
     "setting up training failed: ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.")])
def test_pips_failures_become_one_line(output: str, reason: str) -> None:
    assert training_env._reason(output.splitlines()).startswith(reason)


@pytest.mark.usefixtures("registered_addon")  # the operator's progress properties
def test_unreachable_index_and_an_install_cancelled_with_esc_leave_the_old_environment(tmp_path: Path, small: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / training_env.NAME
    run_job(training_env.SetupJob(folder, requirements=small, check=("tqdm",)))
    stamp = (folder / "rti-setup.txt").read_text()

    killed = training_env.SetupJob(folder, requirements=small, check=("tqdm",))
    killed.start()
    probe = ModalProbe(killed)
    while len(killed.commands) > 1:  # until the venv is made and pip started (whether it has ended or not)
        assert probe.send("TIMER") == {"RUNNING_MODAL"}
        time.sleep(0.05)
    assert probe.send("ESC") == {"CANCELLED"} and probe.reports == [("WARNING", "cancelled")]
    assert works(folder) and not killed.new.exists()

    pip_settings(monkeypatch, PIP_INDEX_URL="http://127.0.0.1:9/simple", PIP_RETRIES="1")
    failing = training_env.SetupJob(folder, requirements=small, check=("tqdm",))
    with pytest.raises(RTIError, match="could not download the training packages.*see .*setup.log"):
        run_job(failing)
    failing.cancel()  # what the operator does after an error
    assert works(folder) and (folder / "rti-setup.txt").read_text() == stamp and not failing.new.exists()


@pytest.mark.parametrize("listed, message", [
    (["tqdm-4.70.1-py3-none-any.whl"], r"the package index has no tqdm==4.0.0 for this computer \(Python 3\.\d+, "),
    ([], r"found no tqdm==4.0.0 to download: no network, .* or it has none for this computer \(Python 3\.\d+, ")])
def test_a_package_missing_from_the_index_is_named(listed: list[str], message: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "index").mkdir()
    for wheel in listed:  # pip lists versions from the file names alone
        (tmp_path / "index" / wheel).touch()
    pip_settings(monkeypatch, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(tmp_path / "index"))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tqdm==4.0.0\n")
    job = training_env.SetupJob(tmp_path / "env", requirements=requirements, check=("tqdm",))
    with pytest.raises(RTIError, match=message):
        run_job(job)
    job.cancel()
    assert not job.new.exists() and not job.folder.exists()


@pytest.mark.parametrize("system, build, index", [
    ("linux", "cpu", training_env.TORCH_CPU_INDEX), ("linux", "cuda", None),  # PyPI's Linux torch is the CUDA one
    ("win32", "cpu", training_env.TORCH_CPU_INDEX), ("win32", "cuda", training_env.TORCH_CUDA_INDEX),
    ("darwin", "cpu", None)])
def test_torch_comes_from_the_index_of_the_build(system: str, build: str, index: str | None, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(training_env.sys, "platform", system)
    monkeypatch.setattr(training_env.platform, "machine", lambda: training_env.PLATFORMS[system][0])
    monkeypatch.setattr(training_env.platform, "mac_ver", lambda: ("14.5", ("", "", ""), "arm64"))
    commands = training_env.SetupJob(tmp_path / "env", build).commands
    torch = [c for c in commands if "--index-url" in c]
    assert [c[c.index("--index-url") + 1:] for c in torch] == ([[index, "torch==2.13.0"]] if index else [])
    assert commands[-2][-2:] == ["-r", str(training_env.requirements_file())]
    assert ("RTI-CUDA" in commands[-1][-1]) == (build == "cuda")


@pytest.mark.parametrize("system, machine, release, refusal", [
    ("darwin", "x86_64", "13.6", "no build for Intel Macs"), ("darwin", "arm64", "13.6.1", "needs macOS 14 or later"),
    ("win32", "ARM64", "", "no build for Windows on ARM64"), ("linux", "riscv64", "", "no build for Linux on riscv64"),
    ("darwin", "arm64", "15.1", None), ("linux", "aarch64", "", None), ("win32", "AMD64", "", None)])
def test_computers_without_pytorch_builds_are_refused_before_downloading(
        system: str, machine: str, release: str, refusal: str | None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(training_env.sys, "platform", system)
    monkeypatch.setattr(training_env.platform, "machine", lambda: machine)
    monkeypatch.setattr(training_env.platform, "mac_ver", lambda: (release, ("", "", ""), machine))
    if refusal is None:
        training_env.SetupJob(tmp_path / "env")
    else:
        with pytest.raises(RTIError, match=refusal):
            training_env.SetupJob(tmp_path / "env")
    assert not (tmp_path / "env").exists()


def test_a_cuda_build_without_a_usable_gpu_warns(tmp_path: Path, small: Path) -> None:
    job = training_env.SetupJob(tmp_path / "env", "cuda", requirements=small, check=("tqdm",))
    job._read("RTI-CUDA True\n")
    assert job.warnings == []
    job._read("RTI-CUDA False\n")
    assert job.warnings and "training will run on the CPU" in job.warnings[0]


def test_refuses_what_it_cannot_do(tmp_path: Path, small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RTIError, match="unknown PyTorch build"):
        training_env.SetupJob(tmp_path / "env", "rocm", requirements=small)
    monkeypatch.setattr(training_env, "FREE_GB", {"cpu": 1e9, "cuda": 1e9})
    with pytest.raises(RTIError, match="not enough disk space"):
        training_env.SetupJob(tmp_path / "env", requirements=small).start()
    assert not (tmp_path / "env").exists()


def test_training_uses_the_environment_once_set_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / training_env.NAME
    monkeypatch.setattr(preferences, "environment_folder", lambda create=False: folder)
    assert preferences.find_python("") != training_env.interpreter(folder)  # not set up: the checkout's .venv
    python = training_env.interpreter(folder)
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    assert preferences.find_python("") != python  # a half-made environment (no completed setup) is not used
    (folder / "rti-setup.txt").write_text("cpu\n")
    assert preferences.find_python("") == python
    assert preferences.find_python(sys.executable) == Path(sys.executable)  # the user's own choice comes first


SCRIPT = """
import sys
import bpy
zip_path, mlic, out = sys.argv[1:4]
bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
for obj in list(bpy.context.scene.objects):
    bpy.data.objects.remove(obj)
preferences = bpy.context.preferences.addons["bl_ext.user_default.neural_rti"].preferences
preferences.build = "cuda"
try:
    bpy.ops.rti.setup_training()
except RuntimeError as error:
    print("REFUSED", " ".join(str(error).split()))
preferences.build = "cpu"
bpy.ops.rti.setup_training()
settings = bpy.context.scene.rti_train
settings.mlic, settings.output, settings.time_budget = mlic, out, 6.0
bpy.ops.rti.train()
print("ACTIVE", bpy.context.view_layer.objects.active.name)
print("ENV", bpy.utils.extension_path_user("bl_ext.user_default.neural_rti"))
"""


def test_fresh_user_folder_zip_setup_then_train(tmp_path: Path, extension: Path) -> None:
    """A fresh Blender user folder, the zip installed, Set up Training, then Train: a student on a plane."""
    mlic = tmp_path / "mlic"
    made = subprocess.run([sys.executable, "-m", "core", "analytic", "-o", str(mlic), "--size", "24", "-q"],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    (tmp_path / "script.py").write_text(SCRIPT)
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(tmp_path / "blender"), "PATH": "/nonexistent"}
    done = subprocess.run([sys.executable, str(tmp_path / "script.py"), str(extension), str(mlic),
                           str(tmp_path / "model")], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines()
                 if line.startswith(("ACTIVE ", "ENV ", "REFUSED ")))
    assert "no NVIDIA GPU found" in lines["REFUSED"]  # CUDA asked for, no nvidia-smi on the (empty) PATH
    assert "student" in lines["ACTIVE"] and (tmp_path / "model" / "student" / "info.json").is_file()
    folder = Path(lines["ENV"]) / training_env.NAME
    assert folder.is_relative_to(tmp_path / "blender") and training_env.installed(folder) is not None
