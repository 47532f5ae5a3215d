"""The ml-v2 API and the job system under attack (issue 16, items 1-5): validation amplification, reads without the
key, DNS rebinding, expensive listings, unbounded work, and the guards of an app behind a mount or a root path.
Each test failed on the code before the fix."""

import concurrent.futures as cf, json, os, string, subprocess, sys, time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from starlette.applications import Starlette
from starlette.routing import Mount

from cryptoml.api import API_PREFIX, ApiSettings, PredictRequest, create_app
from cryptoml.core import models_dir
from cryptoml.data import synthetic_ohlcv
from cryptoml.jobs import JobManager, JobStatus, JobStore

KEY = "test-key-" + "x" * 24
H = {"X-API-Key": KEY}
ROOT = Path(__file__).resolve().parents[1]


class NullExecutor:
    "Accepts tasks and runs none: jobs stay queued."

    def submit(self, fn, *args):
        return cf.Future()

    def map(self, fn, items):
        return [fn(x) for x in items]

    def shutdown(self, wait=True):
        pass


def _candles(n=200, seed=3):
    df = synthetic_ohlcv(n, seed=seed).reset_index()
    df["timestamp"] = df["timestamp"].map(lambda t: t.isoformat())
    return df.to_dict("records")


def _app(tmp: Path, key=KEY, **kw):
    store = JobStore(tmp / f"jobs-{time.time_ns()}.sqlite")
    kw.setdefault("rate_limit", 0)
    cap = {"max_queued": kw.pop("max_queued")} if "max_queued" in kw else {}
    manager = kw.pop("manager", None) or JobManager(store, NullExecutor(), **cap)
    return create_app(ApiSettings(api_key=key, jobs_url=store.url, **kw), manager=manager)


@pytest.fixture
def client(tmp_path):
    with TestClient(_app(tmp_path), headers=H) as c:
        yield c


def _amplifier() -> bytes:
    "The 1.9 MB body of issue 16 item 1: 10,000 candles of 27 unknown fields each (330,000 errors before the fix)."
    keys = [a + b for a in string.ascii_letters for b in string.ascii_letters][:27]
    return json.dumps({"model_id": "m", "candles": [{k: 0 for k in keys}] * 10_000}, separators=(",", ":")).encode()


# --- item 1: validation amplification ---------------------------------------------------------------------------------
def test_invalid_body_gets_a_small_fast_422(client):
    "Before: 422 with a 53 MB body listing 330,000 errors, after 12.7 s. Now: a few errors and a count, at once."
    body = _amplifier()
    assert 1_800_000 < len(body) < 2_000_000
    t0 = time.perf_counter()
    r = client.post(f"{API_PREFIX}/predict", content=body, headers={"content-type": "application/json"})
    took = time.perf_counter() - t0
    assert r.status_code == 422
    assert len(r.content) < 16_000, len(r.content)
    d = r.json()
    assert len(d["detail"]) <= 10 and d["error_count"] > len(d["detail"]), d
    assert took < 3.0, took


def test_candle_validation_stops_after_a_few_errors():
    "The shared candles validator stops early: a bounded number of errors whatever the number of bad candles."
    bad = {"timestamp": "x", "open": -1, "high": -1, "low": -1, "close": -1, "volume": -1}
    with pytest.raises(Exception) as e:
        PredictRequest.model_validate({"model_id": "m", "candles": [bad] * 10_000})
    errs = e.value.errors()
    assert len(errs) <= 25 and "stopped" in errs[-1]["msg"], errs[-3:]
    one = {f"k{i}": 0 for i in range(50_000)}  # one candle with 50,000 unknown fields: one error
    with pytest.raises(Exception) as e:
        PredictRequest.model_validate({"model_id": "m", "candles": [one]})
    assert len(e.value.errors()) <= 25


@pytest.mark.parametrize(
    "path,body",
    [
        ("/predict", {"model_id": "m", "candles": [{}] * 10, **{f"x{i}": 0 for i in range(60_000)}}),
        ("/regime/detect", {"prices": [-1.0] * 10_000}),
        ("/sentiment/analyze", {"text": "hi", "sources": ["nope"] * 3, **{f"y{i}": 1 for i in range(5000)}}),
    ],
)
def test_every_route_caps_its_errors(client, path, body):
    r = client.post(API_PREFIX + path, json=body)
    assert r.status_code in (413, 422) and len(r.content) < 16_000, (r.status_code, len(r.content))


def test_route_body_limits(client):
    "Each route has a body limit that fits it: sentiment text needs kilobytes, not megabytes."
    r = client.post(f"{API_PREFIX}/sentiment/analyze", json={"text": "a" * 300_000})
    assert r.status_code == 413 and "bytes" in r.json()["detail"]
    big = {"model_id": "nope", "candles": _candles(9000)}  # about 1.5 MB: still welcome on /predict
    assert client.post(f"{API_PREFIX}/predict", json=big).status_code == 404
    r = client.request("GET", f"{API_PREFIX}/jobs", content=b"x" * 100_000)
    assert r.status_code == 413


def test_error_bodies_are_capped():
    from cryptoml.api import MAX_ERROR_BODY, _json  # noqa: F401 (MAX_ERROR_BODY is new)

    resp = _json(422, "x" * 5_000_000)
    assert len(resp.body) <= MAX_ERROR_BODY and json.loads(resp.body)["detail"].endswith("...")


# --- item 2: reads need the key; relative paths; DNS rebinding --------------------------------------------------------
READS = [
    ("GET", "/jobs", None),
    ("GET", "/jobs/j-20260101T000000-abcdef12", None),
    ("GET", "/models", None),
    ("POST", "/sentiment/analyze", {"text": "up only"}),
    ("POST", "/regime/detect", {"prices": [1.0 + i for i in range(80)]}),
    ("POST", "/predict", {"model_id": "nope", "candles": _candles(5)}),
]


@pytest.mark.parametrize("method,path,body", READS)
def test_reads_need_the_key_when_one_is_configured(tmp_path, method, path, body):
    with TestClient(_app(tmp_path)) as c:
        r = c.request(method, API_PREFIX + path, json=body)
        assert r.status_code == 401, (path, r.status_code, r.text[:200])
        r = c.request(method, API_PREFIX + path, json=body, headers=H)
        assert r.status_code in (200, 404), (path, r.status_code, r.text[:200])
        assert c.get(f"{API_PREFIX}/health").status_code == 200  # the one open route
    with TestClient(_app(tmp_path, public_reads=True)) as c:  # the explicit opt-in
        assert c.request(method, API_PREFIX + path, json=body).status_code in (200, 404)
        assert c.post(f"{API_PREFIX}/rl/train", json={}).status_code == 401  # work still needs the key


def test_responses_name_no_server_paths(tmp_path, client):
    "Job records, model cards and errors show paths relative to the models and data folders, and no storage URLs."
    from cryptoml.core import data_dir

    store = client.app.state.manager.store
    mdir, ddir = str(models_dir().resolve()), str(data_dir().resolve())
    j = store.create("optimize", "cryptoml.testing:demo_job", {"checkpoint": f"{mdir}/jobs/x/ckpt.zip"})
    attempt = store.claim(j.id, "me")
    result = {"storage": f"sqlite:///{mdir}/automl.sqlite", "agent_file": f"{mdir}/agents/a.json"}
    store.finish(j.id, attempt, "failed", result, error=f"FileNotFoundError: [Errno 2] {ddir}/BTC-USD_1h.csv")
    for r in (client.get(f"{API_PREFIX}/jobs/{j.id}"), client.get(f"{API_PREFIX}/jobs")):
        assert r.status_code == 200
        assert mdir not in r.text and ddir not in r.text and "sqlite://" not in r.text, r.text
    got = client.get(f"{API_PREFIX}/jobs/{j.id}").json()
    assert got["result"]["agent_file"] == "models/agents/a.json" and "data/BTC-USD_1h.csv" in got["error"], got
    card = models_dir(create=True) / "leaky"
    card.mkdir(exist_ok=True)
    (card / "manifest.json").write_text("{}")
    (card / "metadata.json").write_text(json.dumps({"model_type": "x", "description": f"trained on {ddir}/a.csv"}))
    r = client.get(f"{API_PREFIX}/models")
    assert r.status_code == 200 and ddir not in r.text and "data/a.csv" in r.text, r.text
    r = client.post(f"{API_PREFIX}/predict", json={"model_id": "leaky", "candles": _candles(5)})
    assert r.status_code in (404, 422) and mdir not in r.text, r.text


@pytest.mark.parametrize(
    "host,ok",
    [
        ("127.0.0.1:8000", True),
        ("localhost:8000", True),
        ("LOCALHOST.", True),
        ("[::1]:8000", True),
        ("ml.internal:8000", True),  # configured
        ("evil.example", False),
        ("evil.example:8000", False),
        ("127.0.0.1.evil.example", False),
        ("", False),
    ],
)
def test_trusted_hosts_on_loopback(tmp_path, host, ok):
    "Bound to loopback, only loopback names (and configured ones) are served: a rebinding web page gets 400."
    app = _app(tmp_path, allowed_hosts=["ml.internal"])
    with TestClient(app, base_url="http://127.0.0.1:8000", headers=H) as c:
        r = c.get(f"{API_PREFIX}/health", headers={"host": host})
        assert (r.status_code == 200) == ok, (host, r.status_code, r.text)
        if not ok:
            assert r.status_code == 400 and "Host" in r.json()["detail"]
    with TestClient(app, base_url="http://10.1.2.3:8000") as c:  # not loopback: a proxy or the network decides
        assert c.get(f"{API_PREFIX}/health", headers={"host": "api.example.com"}).status_code == 200


def test_trusted_hosts_real_server(tmp_path):
    "Through uvicorn on 127.0.0.1: the ASGI `server` of the connection is loopback, a foreign Host is refused."
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CRYPTOML_API_KEY": KEY, "CRYPTOML_JOBS_URL": str(tmp_path / "jobs.sqlite")}
    code = f"import sys; from cryptoml.api import serve_main; sys.exit(serve_main(['--port', '{port}']))"
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}{API_PREFIX}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        r = httpx.get(f"{url}/health", headers={"Host": "attacker.example"}, timeout=10)
        assert r.status_code == 400, r.text
        assert httpx.get(f"{url}/jobs", timeout=10).status_code == 401
        assert httpx.get(f"{url}/jobs", headers=H, timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(20)


# --- item 3: listings from a summary column ---------------------------------------------------------------------------
def test_job_list_reads_only_the_summary(client):
    store = client.app.state.manager.store
    candles = _candles(2000)
    for _ in range(5):
        store.create("rl_train", "cryptoml.api:rl_train_job", {"agent_type": "ppo", "market_data": candles, "seed": 1})
    seen = []
    event.listen(store.engine, "before_cursor_execute", lambda c, cur, s, *a: seen.append(s))
    r = client.get(f"{API_PREFIX}/jobs", params={"limit": 100})
    assert r.status_code == 200 and len(r.json()) == 5
    sel = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert sel and not any("cryptoml_jobs.params" in s or "cryptoml_jobs.result" in s for s in sel), sel
    p = r.json()[0]["params"]
    assert p["agent_type"] == "ppo" and p["market_data"] == "<list of 2000 items>" and len(json.dumps(p)) < 1024, p
    assert client.get(f"{API_PREFIX}/jobs", params={"limit": 101}).status_code == 422
    full = client.get(f"{API_PREFIX}/jobs/{r.json()[0]['id']}").json()
    assert len(full["params"]["market_data"]) == 2000  # one job: its full record


def test_summary_column_migration(tmp_path):
    "A job table made before the summary column gets it, filled for its existing rows."
    db = tmp_path / "old.sqlite"
    store = JobStore(db)
    j = store.create("rl_train", "cryptoml.testing:demo_job", {"steps": 3, "market_data": list(range(500))})
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE cryptoml_jobs DROP COLUMN summary"))
    store.engine.dispose()
    again = JobStore(db)
    [got] = again.list(summary=True)
    assert got.id == j.id and got.params == {"steps": 3, "market_data": "<list of 500 items>"}, got.params


# --- item 4: bounded work ---------------------------------------------------------------------------------------------
def _opt(**over):
    req = {
        "model_type": "xgboost",
        "search_strategy": "random",
        "n_trials": 2,
        "hyperparameter_ranges": [{"name": "max_depth", "param_type": "int", "min": 2, "max": 4}],
        "objective_options": {"source": "synthetic", "limit": 400, "n_splits": 2},
    }
    for k, v in over.items():
        if k in ("fixed_params", "sequence_length", "limit", "n_splits", "feature_set", "horizon"):
            req["objective_options"][k] = v
        else:
            req[k] = v
    return req


@pytest.mark.parametrize(
    "req,words",
    [
        (_opt(fixed_params={"n_estimators": 1e9}), "n_estimators"),
        (_opt(fixed_params={"n_jobs": 4096}), "n_jobs"),
        (_opt(model_type="lstm", fixed_params={"epochs": 1e9}), "epochs"),
        (_opt(model_type="lstm", fixed_params={"hidden_units": 10**6}), "hidden_units"),
        (_opt(model_type="lstm", fixed_params={"epochs": 2.5}), "epochs"),
        (_opt(fixed_params={"max_depth": True}), "max_depth"),
        (_opt(fixed_params={"unknown_knob": 1}), "unknown_knob"),
        (_opt(fixed_params={"task": "world domination"}), "task"),
        (
            _opt(hyperparameter_ranges=[{"name": "n_estimators", "param_type": "int", "min": 1, "max": 10**8}]),
            "n_estimators",
        ),
        (
            _opt(hyperparameter_ranges=[{"name": "max_depth", "param_type": "categorical", "values": [2, 10**6]}]),
            "max_depth",
        ),
        (_opt(model_type="lstm", sequence_length=30_000, limit=60_000), "sequence_length"),
        (
            _opt(model_type="lstm", fixed_params={"sequence_length": 500}, limit=100_000, feature_set="default"),
            "memory",
        ),
        (_opt(model_type="transformer", fixed_params={"sequence_length": 512}), "sequence_length"),
        (_opt(feature_set="no_such_set"), "feature_set"),
        (_opt(horizon=10**9), "horizon"),
    ],
)
def test_every_engine_parameter_is_bounded(client, req, words):
    r = client.post(f"{API_PREFIX}/optimize", json=req)
    assert r.status_code == 422 and words in r.text, (r.status_code, r.text[:600])


def test_grid_size_is_checked_before_building_it(client):
    "A 10^12-point grid is a 422 at once (before: accepted, and the job built the grid before its first trial)."
    tiny = [{"name": "learning_rate", "param_type": "float", "min": 0.0, "max": 1.0, "step": 1e-12}]
    wide = [{"name": n, "param_type": "int", "min": 1, "max": 1000, "step": 1} for n in ("max_depth", "n_estimators")]
    for ranges in (tiny, wide):
        t0 = time.perf_counter()
        r = client.post(f"{API_PREFIX}/optimize", json=_opt(search_strategy="grid", hyperparameter_ranges=ranges))
        assert r.status_code == 422 and "grid" in r.text and time.perf_counter() - t0 < 2, r.text[:500]
    ok = [{"name": "max_depth", "param_type": "int", "min": 2, "max": 6, "step": 2}]
    assert (
        client.post(f"{API_PREFIX}/optimize", json=_opt(search_strategy="grid", hyperparameter_ranges=ok)).status_code
        == 202
    )


def test_sane_requests_still_accepted(client):
    lr = [{"name": "learning_rate", "param_type": "float", "min": 1e-4, "max": 1e-2, "log": True}]
    ok = _opt(
        model_type="lstm",
        fixed_params={"epochs": 3, "hidden_units": 16, "sequence_length": 20},
        hyperparameter_ranges=lr,
    )
    assert client.post(f"{API_PREFIX}/optimize", json=ok).status_code == 202
    body = {"agent_type": "qlearning", "market_data": _candles(120), "total_timesteps": 100}
    assert client.post(f"{API_PREFIX}/rl/train", json=body).status_code == 202


def test_queued_jobs_are_capped(tmp_path):
    "A full queue answers 503 with Retry-After (before: every job was queued)."
    from cryptoml.jobs import JobQueueFull

    with TestClient(_app(tmp_path, max_queued=3), headers=H) as c:
        body = {"agent_type": "qlearning", "market_data": _candles(60), "total_timesteps": 100}
        codes = [c.post(f"{API_PREFIX}/rl/train", json=body).status_code for _ in range(3)]
        r = c.post(f"{API_PREFIX}/rl/train", json=body)
        assert codes == [202] * 3 and r.status_code == 503 and int(r.headers["retry-after"]) >= 1, r.text
        assert "queue" in r.json()["detail"]
        assert c.post(f"{API_PREFIX}/optimize", json=_opt()).status_code == 503
    store = JobStore(tmp_path / "cap.sqlite")
    m = JobManager(store, NullExecutor(), max_queued=1)
    m.submit("demo", "cryptoml.testing:demo_job")
    with pytest.raises(JobQueueFull, match="1 jobs are queued"):
        m.submit("demo", "cryptoml.testing:demo_job")


def test_jobs_have_a_wall_clock_limit(tmp_path):
    "A job that runs past the server's limit is stopped and failed, its process killed (before: it ran on)."
    m = JobManager(JobStore(tmp_path / "t.sqlite"), "local", workers=1, timeout=2, grace=1)
    try:
        j = m.submit("demo", "cryptoml.testing:demo_job", {"steps": 600, "step_s": 0.05, "ignore_cancel": True})
        t0 = time.time()
        done = m.wait(j.id, timeout=30)
        assert done.status == JobStatus.failed and "time limit" in done.error, done
        assert time.time() - t0 < 15
        t1 = time.time()
        while m.running() and time.time() - t1 < 10:
            time.sleep(0.1)
        assert not m.running()
    finally:
        m.shutdown()


def test_jobs_have_a_memory_limit(tmp_path):
    "A job that allocates past the limit fails with a MemoryError naming the limit (the server lives on)."
    m = JobManager(JobStore(tmp_path / "m.sqlite"), "local", workers=1, memory_mb=600)
    try:
        j = m.submit("demo", "cryptoml.testing:demo_job", {"steps": 1, "allocate_mb": 2000})
        done = m.wait(j.id, timeout=60)
        assert done.status == JobStatus.failed and "MemoryError" in done.error and "600 MB" in done.error, done
        ok = m.submit("demo", "cryptoml.testing:demo_job", {"steps": 1, "allocate_mb": 50})
        assert m.wait(ok.id, timeout=60).status == JobStatus.succeeded
    finally:
        m.shutdown()


def test_retention_removes_old_finished_jobs_and_checkpoints(tmp_path, monkeypatch):
    from cryptoml.jobs import job_dir

    monkeypatch.setenv("CRYPTOML_MODELS_DIR", str(tmp_path / "models"))
    store = JobStore(tmp_path / "r.sqlite")
    old, recent, live = (store.create("demo", "cryptoml.testing:demo_job") for _ in range(3))
    for j in (old, recent):
        store.finish(j.id, store.claim(j.id, "w"), "succeeded", {})
        job_dir(j.id, create=True).joinpath("checkpoint.json").write_text("{}")
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE cryptoml_jobs SET finished_at = finished_at - 40 * 86400 WHERE id = :i"), {"i": old.id}
        )
    m = JobManager(store, NullExecutor(), retention_days=30)
    m.start()
    try:
        ids = {j.id for j in store.list(limit=10)}
        assert ids == {recent.id, live.id}, ids
        assert not job_dir(old.id).exists() and job_dir(recent.id).exists()
    finally:
        m.shutdown()
    with pytest.raises(Exception, match="invalid job id"):
        job_dir("../../etc")


# --- item 5: the guards follow the routes however the app is mounted --------------------------------------------------
def _limited(tmp_path):
    return _app(tmp_path, rate_limit=1, rate_burst=3)


@pytest.mark.parametrize("how", ["mount", "root_path"])
def test_rate_limit_behind_a_mount_or_root_path(tmp_path, how):
    "Before: behind `Mount('/ml', app)` or `--root-path /ml` the rate limit (and the early key check) turned off."
    app = _limited(tmp_path)
    if how == "mount":
        outer, kw = Starlette(routes=[Mount("/ml", app=app)]), {}
    else:
        outer, kw = app, {"root_path": "/ml"}
    with TestClient(outer, headers=H, **kw) as c:
        codes = [c.get(f"/ml{API_PREFIX}/jobs").status_code for _ in range(6)]
        assert codes[:3] == [200] * 3 and 429 in codes[3:], codes
        assert c.get(f"/ml{API_PREFIX}/health").status_code == 200  # still exempt
    with TestClient(outer, **kw) as c:  # the key is checked before the body, behind the mount too
        r = c.post(f"/ml{API_PREFIX}/rl/train", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code in (401, 429), r.status_code


def test_unknown_paths_are_rate_limited_too(tmp_path):
    with TestClient(_limited(tmp_path), headers=H) as c:
        codes = [c.get("/nothing-here").status_code for _ in range(6)]
        assert 429 in codes, codes


def test_proxy_is_documented():
    readme = (ROOT / "README.md").read_text()
    assert "behind a proxy" in readme.lower() and "--root-path" in readme and "--forwarded-allow-ips" in readme
