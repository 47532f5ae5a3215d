"""Saved files under attack and under faults: no pickle on any load path, durable writes, no lost models.

The adversarial half builds files an attacker could hand over (an SB3 zip with a pickle payload, a model folder
with a re-hashed manifest, a class outside cryptoml, a pointer out of the folder) and checks that loading refuses
them before anything runs: each payload would create a marker file if it were unpickled. The fault half interrupts
saves at every step (an exception, or a simulated kill between two renames) and checks that the old model stays
loadable throughout, that files and folders are synced, and that leftovers are cleaned up.
"""

import base64, json, os, pickle, shutil, zipfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from cryptoml.core import (
    POINTER,
    ConfigError,
    ModelFileError,
    atomic_dir,
    atomic_write,
    current_version,
    file_sha256,
    load_artifact_class,
)
from cryptoml.models.core import RidgeBaseline
from cryptoml.testing import synthetic_windows
from cryptoml.persistence import load_model, save_model


class _Payload:
    "Unpickling this creates the marker file: proof that a loader ran code from the file."

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickle_payload(marker: Path) -> bytes:
    return pickle.dumps(_Payload(marker))


@pytest.fixture(scope="module")
def windows():
    X, y = synthetic_windows(120, sequence_length=5)
    return X, y


def _ridge(windows, alpha: float) -> RidgeBaseline:
    X, y = windows
    m = RidgeBaseline(alpha=alpha)
    m.train(X[:100], y[:100])
    return m


def _rehash(version: Path) -> None:
    "Rewrite a version's manifest to match its files, as an attacker who controls the folder can."
    man = json.loads((version / "manifest.json").read_text())
    man["files"] = {
        p.name: {"sha256": file_sha256(p), "bytes": p.stat().st_size}
        for p in sorted(version.iterdir())
        if p.name != "manifest.json"
    }
    (version / "manifest.json").write_text(json.dumps(man))


# --- no pickle on any load path ----------------------------------------------------------------------------------


def test_sb3_zip_with_pickle_payload_is_refused(tmp_path):
    "A stable-baselines3 zip (the old PPO format) runs cloudpickle on load; it is refused before it is opened."
    from cryptoml.rl.agents import PPOAgent

    marker = tmp_path / "pwned"
    evil = {":type:": "<class 'gymnasium.spaces.box.Box'>", ":serialized:": base64.b64encode(_pickle_payload(marker))}
    zpath = tmp_path / "agent.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("data", json.dumps({"observation_space": {**evil, ":serialized:": evil[":serialized:"].decode()}}))
        z.writestr("cryptoml_agent.json", json.dumps({"format": "cryptoml.rl.PPOAgent", "version": 1, "params": {}}))
    for load in (PPOAgent.load, load_model):
        with pytest.raises(ModelFileError, match="not a folder"):
            load(zpath)
    assert not marker.exists()


def test_ppo_folder_with_pickle_in_place_of_weights_is_refused(tmp_path):
    "An attacker swaps the safetensors file for a pickle and re-hashes the manifest: parsing fails, nothing runs."
    from cryptoml.data import synthetic_ohlcv
    from cryptoml.rl.agents import PPOAgent

    agent = PPOAgent(n_steps=32, batch_size=32, n_epochs=1)
    agent.train(agent.create_trading_env(synthetic_ohlcv(300, seed=0), episode_length=60), total_timesteps=32)
    p = agent.save(tmp_path / "ppo")
    marker = tmp_path / "pwned"
    v = current_version(p)
    (v / "ppo.safetensors").write_bytes(_pickle_payload(marker))
    _rehash(v)
    with pytest.raises(ModelFileError, match="could not restore the PPOAgent"):
        PPOAgent.load(p)
    assert not marker.exists()


def test_unsafe_file_types_and_unlisted_files_are_refused(tmp_path, windows):
    "A pickle file in a model folder is refused whether the manifest lists it or not."
    p = save_model(_ridge(windows, 1.0), None, tmp_path / "m")
    v = current_version(p)
    (v / "state.pkl").write_bytes(_pickle_payload(tmp_path / "pwned"))
    with pytest.raises(ModelFileError, match=r"does not list: \['state.pkl'\]"):
        load_model(p)
    _rehash(v)
    with pytest.raises(ModelFileError, match="refusing manifest entry 'state.pkl'"):
        load_model(p)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(format_version=99), "format version 99"),
        (lambda m: m.update(format="other"), "not a cryptoml model manifest"),
        (lambda m: m.update(files={}), "lists no files"),
        (lambda m: m["files"].pop("artifact.json"), "does not list"),
        (lambda m: m["files"].update({"../escape.json": m["files"]["state.json"]}), "refusing manifest entry"),
    ],
)
def test_bad_manifests_are_refused_before_parsing(tmp_path, windows, change, message):
    "A wrong format, format version or file list is refused before artifact.json (here: garbage) is read."
    p = save_model(_ridge(windows, 1.0), None, tmp_path / "m")
    v = current_version(p)
    (v / "artifact.json").write_text("not json at all")
    man = json.loads((v / "manifest.json").read_text())
    change(man)
    (v / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(ModelFileError, match=message):
        load_model(p)


@pytest.mark.parametrize(
    "qualname, message",
    [
        ("os.system", "only cryptoml classes"),
        ("builtins.exec", "only cryptoml classes"),
        ("cryptoml_evil.Model", "only cryptoml classes"),
        ("cryptoml.core.ConfigError", "not a cryptoml artifact"),
        ("cryptoml.persistence.ModelMetadata", "not a cryptoml artifact"),
        ("cryptoml.core.Path", "not a cryptoml artifact"),
    ],
)
def test_class_allow_list(tmp_path, windows, qualname, message):
    "The class named in a (validly hashed) file must live in cryptoml and be an Artifact."
    p = save_model(_ridge(windows, 1.0), None, tmp_path / "m")
    v = current_version(p)
    spec = json.loads((v / "artifact.json").read_text())
    spec["class"], spec["params"] = qualname, {"command": f"touch {tmp_path / 'pwned'}"}
    (v / "artifact.json").write_text(json.dumps(spec))
    _rehash(v)
    with pytest.raises(ModelFileError, match=message):
        load_model(p)
    with pytest.raises(ModelFileError, match=message):
        load_artifact_class(qualname)
    assert not (tmp_path / "pwned").exists()


def test_scaler_class_check_is_the_allow_list():
    "The rule that replaces the `startswith('cryptoml')` prefix test for scalers: in cryptoml, an Artifact, a scaler."
    from cryptoml.dataset import FeatureScaler

    assert load_artifact_class("cryptoml.dataset.FeatureScaler", FeatureScaler) is FeatureScaler
    for bad in ("cryptomlx.Scaler", "cryptoml.models.core.RidgeBaseline", "cryptoml.core.ConfigError"):
        with pytest.raises(ModelFileError):
            load_artifact_class(bad, FeatureScaler)


def test_pointer_cannot_leave_the_folder(tmp_path, windows):
    p = save_model(_ridge(windows, 1.0), None, tmp_path / "m")
    other = save_model(_ridge(windows, 2.0), None, tmp_path / "other")
    (p / POINTER).write_text(f"../other/{current_version(other).name}")
    with pytest.raises(ModelFileError, match="not a version folder"):
        load_model(p)


# --- durable writes -------------------------------------------------------------------------------------------


def _record_syncs(monkeypatch) -> list:
    "Log ('fsync', path) and ('replace', src, dst) events in order (Linux: fd paths from /proc)."
    events, fsync, replace = [], os.fsync, os.replace

    def rec_fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return fsync(fd)

    def rec_replace(a, b):
        events.append(("replace", str(a), str(b)))
        return replace(a, b)

    monkeypatch.setattr(os, "fsync", rec_fsync)
    monkeypatch.setattr(os, "replace", rec_replace)
    return events


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads fd paths from /proc")
def test_atomic_write_syncs_the_file_then_the_folder(tmp_path, monkeypatch):
    events = _record_syncs(monkeypatch)
    with atomic_write(tmp_path / "x.json") as t:
        t.write_text("{}")
    kinds = [(e[0], Path(e[1]).name if e[0] == "fsync" else Path(e[2]).name) for e in events]
    tmp_name = Path(events[0][1]).name
    assert kinds == [("fsync", tmp_name), ("replace", "x.json"), ("fsync", tmp_path.name)]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads fd paths from /proc")
def test_atomic_dir_syncs_every_file_and_folder(tmp_path, monkeypatch):
    events = _record_syncs(monkeypatch)
    with atomic_dir(tmp_path / "run") as t:
        (t / "sub").mkdir()
        (t / "a.txt").write_text("a")
        (t / "sub" / "b.txt").write_text("b")
    synced = [Path(e[1]) for e in events if e[0] == "fsync"]
    moved = [i for i, e in enumerate(events) if e[0] == "replace"][-1]
    assert {p.name for p in synced[:moved]} >= {"a.txt", "b.txt", "sub"}  # the contents, before the move
    assert str(tmp_path) in [str(p) for p in synced[moved:]]  # the parent folder, after it


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads fd paths from /proc")
def test_save_model_syncs_the_version_and_the_pointer(tmp_path, windows, monkeypatch):
    events = _record_syncs(monkeypatch)
    p = save_model(_ridge(windows, 1.0), None, tmp_path / "m")
    synced = {Path(e[1]).name for e in events if e[0] == "fsync"}
    assert {"artifact.json", "metadata.json", "manifest.json", "state.json", "m"} <= synced
    assert any(e[0] == "replace" and Path(e[2]) == p / POINTER for e in events)


class _Killed(BaseException):
    "A kill: not an Exception, so nothing catches it on the way out."


def _predicts(path: Path, X) -> np.ndarray:
    return load_model(path)[0].predict(X)


def test_old_model_loadable_at_every_step_of_a_replace(tmp_path, windows, monkeypatch):
    "Snapshot the models folder before and after every rename and removal of a save: each loads old or new."
    X = windows[0][100:]
    old_m, new_m = _ridge(windows, 1.0), _ridge(windows, 50.0)
    root = tmp_path / "models"
    p = save_model(old_m, None, root / "m")
    old_pred, new_pred = old_m.predict(X), new_m.predict(X)
    snaps, replace, rmtree = [], os.replace, shutil.rmtree

    def snap():
        snaps.append(tmp_path / f"snap{len(snaps)}")
        shutil.copytree(root, snaps[-1], symlinks=True)

    def replace_and_snap(a, b):
        snap()
        replace(a, b)
        snap()

    def rmtree_and_snap(path, *a, **k):
        snap()
        rmtree(path, *a, **k)
        snap()

    monkeypatch.setattr(os, "replace", replace_and_snap)
    monkeypatch.setattr(shutil, "rmtree", rmtree_and_snap)
    save_model(new_m, None, p, overwrite=True)
    monkeypatch.undo()
    assert len(snaps) >= 6
    seen = []
    for s in snaps:
        pred = _predicts(s / "m", X)  # raises if this instant had no loadable model
        assert np.allclose(pred, old_pred) or np.allclose(pred, new_pred)
        seen.append("new" if np.allclose(pred, new_pred) else "old")
    assert seen[0] == "old" and seen[-1] == "new" and seen == sorted(seen, key=["old", "new"].index)
    np.testing.assert_allclose(_predicts(p, X), new_pred)


@pytest.mark.parametrize("step", range(3))
def test_kill_at_each_rename_keeps_a_model(tmp_path, windows, monkeypatch, step):
    "A kill at the k-th rename of a replace leaves the old or the new model; the next save cleans up and works."
    X = windows[0][100:]
    old_m, new_m = _ridge(windows, 1.0), _ridge(windows, 50.0)
    p = save_model(old_m, None, tmp_path / "m")
    calls, replace = [], os.replace

    def killing_replace(a, b):
        calls.append(b)
        if len(calls) == step + 1:
            raise _Killed
        return replace(a, b)

    monkeypatch.setattr(os, "replace", killing_replace)
    try:
        save_model(new_m, None, p, overwrite=True)
    except _Killed:
        pass
    monkeypatch.undo()
    pred = _predicts(p, X)
    assert np.allclose(pred, old_m.predict(X)) or np.allclose(pred, new_m.predict(X))
    save_model(new_m, None, p, overwrite=True)
    np.testing.assert_allclose(_predicts(p, X), new_m.predict(X))


def test_exception_mid_write_leaves_the_old_model_and_no_debris(tmp_path, windows, monkeypatch):
    X = windows[0][100:]
    old_m, new_m = _ridge(windows, 1.0), _ridge(windows, 50.0)
    p = save_model(old_m, None, tmp_path / "m")
    before = sorted(tmp_path.rglob("*"))

    def half_then_fail(self, folder):
        (folder / "state.json").write_text('{"coef": [1, 2')
        raise OSError("disk full")

    monkeypatch.setattr(RidgeBaseline, "_save_state", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save_model(new_m, None, p, overwrite=True)
    monkeypatch.undo()
    np.testing.assert_allclose(_predicts(p, X), old_m.predict(X))
    assert sorted(tmp_path.rglob("*")) == before  # no temporary folder, no extra version


def test_stale_leftovers_are_cleaned_at_save(tmp_path, windows):
    "Temporary folders of killed saves beside the model and orphan versions inside it go once stale."
    p = save_model(_ridge(windows, 1.0), None, tmp_path / "m")
    stale_tmp, young_tmp = tmp_path / ".m.dead.tmp", tmp_path / ".m.busy.tmp"
    orphan = p / "v-20200101T000000000000Z-0badf00d"
    for d in (stale_tmp, young_tmp, orphan):
        d.mkdir()
        (d / "state.json").write_text("{}")
    for d in (stale_tmp, orphan):
        os.utime(d, (0, 0))
    save_model(_ridge(windows, 2.0), None, p, overwrite=True)
    assert not stale_tmp.exists() and not orphan.exists() and young_tmp.exists()
    assert sorted(x.name[:2] for x in p.iterdir()) == ["CU", "v-"]


def test_interrupted_atomic_dir_replace_is_restored(tmp_path):
    "A kill between atomic_dir's two renames leaves `.run.old`; the next atomic_dir on that path restores it first."
    run = tmp_path / "run"
    with atomic_dir(run) as t:
        (t / "a.txt").write_text("old")
    os.replace(run, tmp_path / ".run.old")  # the state right after the first rename of a replace
    try:
        with atomic_dir(run):
            raise _Killed
    except _Killed:
        pass
    assert (run / "a.txt").read_text() == "old" and not (tmp_path / ".run.old").exists()


# --- no silent overwrite -----------------------------------------------------------------------------------------


def test_two_saves_in_one_second_both_survive(tmp_path, windows, monkeypatch):
    monkeypatch.setenv("CRYPTOML_MODELS_DIR", str(tmp_path))
    when = {"created_at": datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)}
    a, b = _ridge(windows, 1.0), _ridge(windows, 50.0)
    pa, pb = save_model(a, when), save_model(b, when)
    assert pa != pb and pa.name[:-6] == pb.name[:-6]  # same second, different random suffix
    X = windows[0][100:]
    np.testing.assert_allclose(_predicts(pa, X), a.predict(X))
    np.testing.assert_allclose(_predicts(pb, X), b.predict(X))


def test_no_overwrite_without_asking(tmp_path, windows):
    p = save_model(_ridge(windows, 1.0), None, tmp_path / "m")
    with pytest.raises(ConfigError, match="overwrite=True"):
        save_model(_ridge(windows, 2.0), None, p)
    assert load_model(p)[0].alpha == 1.0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("not a model")
    with pytest.raises(ConfigError, match="holding other files"):
        save_model(_ridge(windows, 2.0), None, tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "not a model"


def test_a_hook_cannot_write_pickle(tmp_path, windows, monkeypatch):
    def pickling_state(self, folder):
        (folder / "state.pkl").write_bytes(pickle.dumps({"coef": self.coef_}))

    monkeypatch.setattr(RidgeBaseline, "_save_state", pickling_state)
    with pytest.raises(ConfigError, match="no pickle"):
        save_model(_ridge(windows, 1.0), None, tmp_path / "m")
    assert not (tmp_path / "m").exists()
