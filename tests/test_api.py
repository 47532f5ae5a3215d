"""The ml-v2 HTTP API from outside: schemathesis fuzzing, keys, body limits, a real uvicorn server on loopback,
a server killed with SIGKILL mid-job, cancellation, and an optimization job on a Dask cluster."""

import concurrent.futures as cf, json, os, signal, socket, subprocess, sys, time
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from fastapi.testclient import TestClient

from cryptoml.api import API_PREFIX, ApiSettings, create_app
from cryptoml.data import synthetic_ohlcv
from cryptoml.jobs import JobManager, JobStore, JobRow

KEY = "test-key-" + "x" * 24
H = {"X-API-Key": KEY}  # every route but /health wants the key once the server has one
ROOT = Path(__file__).resolve().parents[1]
FINAL = ("succeeded", "failed", "cancelled", "interrupted")


def _candles(n=400, seed=3):
    df = synthetic_ohlcv(n, seed=seed).reset_index()
    df["timestamp"] = df["timestamp"].map(lambda t: t.isoformat())
    return df.to_dict("records")


class NullExecutor:
    "An executor that accepts tasks and runs none (the fuzzer exercises request handling, not the work)."

    def submit(self, fn, *args):
        return cf.Future()  # never runs: the job stays queued

    def map(self, fn, items):
        return [fn(x) for x in items]

    def shutdown(self, wait=True):
        pass


def _tiny_transformer(tmp: Path) -> str:
    "A tiny local DistilBERT for source 'transformer' (nothing is downloaded)."
    from cryptoml.testing import tiny_transformer

    p = tmp / "tiny-transformer"
    if not (p / "config.json").exists():
        tiny_transformer(p)
    return str(p)


def _null_app(tmp: Path, key=KEY):
    store = JobStore(tmp / f"fuzz-jobs-{'key' if key else 'nokey'}.sqlite")  # one job manager per job table
    return create_app(
        ApiSettings(api_key=key, jobs_url=store.url, rate_limit=0, sentiment_transformer=_tiny_transformer(tmp)),
        manager=JobManager(store, NullExecutor()),
    )


# --- schemathesis: no server errors on any route, with and without a key ---------------------------------------------
_FUZZ_DIR = Path(os.environ.get("CRYPTOML_MODELS_DIR", "/tmp")) / "api-fuzz"
_FUZZ_DIR.mkdir(parents=True, exist_ok=True)
schema_keyed = schemathesis.openapi.from_asgi("/openapi.json", _null_app(_FUZZ_DIR))
schema_nokey = schemathesis.openapi.from_asgi("/openapi.json", _null_app(_FUZZ_DIR, key=None))
_FUZZ = settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@schema_keyed.parametrize()
@_FUZZ
def test_fuzz_with_key(case):
    "Generated requests (with the key) never get a 5xx, and every response matches the documented schema."
    resp = case.call(headers={"X-API-Key": KEY})
    assert resp.status_code < 500, (resp.status_code, resp.text[:500])
    # schemathesis' default checks (server errors, documented statuses, content types, response schemas), except
    # "schema-valid data is accepted" (equal list lengths, consistent candles and enough history are rules a JSON schema
    # cannot state) and "schema-violating data is rejected" (pydantic's lax mode coerces e.g. `false` to 0.0, as FastAPI does)
    case.validate_response(resp, excluded_checks=[positive_data_acceptance, negative_data_rejection])
    json.loads(resp.text)  # every answer, errors included, is valid JSON


@schema_nokey.parametrize()
@_FUZZ
def test_fuzz_without_key(case):
    "Generated requests against a server without a key never get a 5xx; routes that start work say 401."
    resp = case.call()
    assert resp.status_code < 500, (resp.status_code, resp.text[:500])
    json.loads(resp.text)
    if (case.method, case.path) in {
        ("POST", f"{API_PREFIX}/optimize"),
        ("POST", f"{API_PREFIX}/rl/train"),
        ("DELETE", f"{API_PREFIX}/jobs/{{job_id}}"),
    }:
        assert resp.status_code == 401, resp.status_code  # checked before the body, whatever the body is


# --- keys, body size, NaN, rate limit ----------------------------------------------------------------------------------
MUTATING = [("post", "/optimize"), ("post", "/rl/train"), ("delete", "/jobs/j-20260101T000000-abcdef12")]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(_null_app(tmp_path_factory.mktemp("api"))) as c:
        yield c


@pytest.mark.parametrize("method,path", MUTATING)
@pytest.mark.parametrize(
    "headers", [{}, {"X-API-Key": "wrong-" + "y" * 30}, {"Authorization": "Bearer nope"}, {"X-API-Key": ""}]
)
def test_mutating_routes_need_key(client, method, path, headers):
    kw = {"json": {}} if method == "post" else {}
    r = getattr(client, method)(API_PREFIX + path, headers=headers, **kw)
    assert r.status_code == 401, r.text
    assert "detail" in r.json() and "Traceback" not in r.text


def test_mutating_routes_accept_key(client):
    r = client.post(
        f"{API_PREFIX}/rl/train",
        headers={"Authorization": f"Bearer {KEY}"},
        json={"agent_type": "qlearning", "market_data": _candles(120), "total_timesteps": 100},
    )
    assert r.status_code == 202 and r.json()["status"] == "queued"
    r2 = client.delete(f"{API_PREFIX}/jobs/{r.json()['id']}", headers={"X-API-Key": KEY})
    assert r2.status_code == 200 and r2.json()["status"] == "cancelled"


@pytest.mark.parametrize("body", [b"\x80", b"{not json", b'{"agent_type": "nope"}'])
def test_key_checked_before_body(client, body):
    for method, path in MUTATING:
        r = client.request(
            method.upper(), API_PREFIX + path, content=body, headers={"content-type": "application/json"}
        )
        assert r.status_code == 401, (path, r.status_code)


def test_no_key_configured_refuses_work(tmp_path):
    with TestClient(_null_app(tmp_path, key=None)) as c:
        r = c.post(f"{API_PREFIX}/rl/train", headers={"X-API-Key": KEY}, json={})
        assert r.status_code == 401 and "no API key configured" in r.json()["detail"]


def test_oversize_body_413(client):
    big = {"text": "a" * 2_100_000}
    r = client.post(f"{API_PREFIX}/sentiment/analyze", json=big, headers=H)
    assert r.status_code == 413 and "larger than" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit counts streamed bytes
        for _ in range(300):
            yield b"x" * 10_000

    r = client.post(
        f"{API_PREFIX}/sentiment/analyze", content=chunks(), headers={"content-type": "application/json", **H}
    )
    assert r.status_code == 413


def test_nan_and_infinity_are_422_with_json_body(client):
    for bad in (
        '{"prices": [NaN, 1.0]}',
        '{"prices": [Infinity, 1.0]}',
        '{"text": "hi", "sources": ["vader"], "x": NaN}',
    ):
        path = "/regime/detect" if "prices" in bad else "/sentiment/analyze"
        r = client.post(API_PREFIX + path, content=bad, headers={"content-type": "application/json", **H})
        assert r.status_code == 422, r.text
        json.loads(r.text)  # valid JSON (no bare NaN)
    body = {
        "model_type": "ridge",
        "n_trials": 2,
        "hyperparameter_ranges": [{"name": "alpha", "param_type": "float", "min": 0.1, "max": 1.0}],
    }
    raw = json.dumps(body).replace("1.0", "NaN")
    r = client.post(
        f"{API_PREFIX}/optimize", content=raw, headers={"content-type": "application/json", "X-API-Key": KEY}
    )
    assert r.status_code == 422 and "Traceback" not in r.text


def test_bounds_and_traversal(client):
    r = client.post(
        f"{API_PREFIX}/optimize",
        headers={"X-API-Key": KEY},
        json={
            "model_type": "ridge",
            "n_trials": 10**6,
            "hyperparameter_ranges": [{"name": "alpha", "param_type": "float", "min": 0.1, "max": 1.0}],
        },
    )
    assert r.status_code == 422
    r = client.post(
        f"{API_PREFIX}/rl/train",
        headers={"X-API-Key": KEY},
        json={"agent_type": "ppo", "market_data": _candles(60), "total_timesteps": 10**9},
    )
    assert r.status_code == 422
    for mid in ("../../etc/passwd", "..", ".hidden", "a/b", "%2e%2e"):
        r = client.post(f"{API_PREFIX}/predict", json={"model_id": mid, "candles": _candles(5)}, headers=H)
        assert r.status_code in (404, 422), (mid, r.status_code)
    r = client.post(
        f"{API_PREFIX}/optimize",
        headers={"X-API-Key": KEY},
        json={
            "model_type": "ridge",
            "n_trials": 2,
            "hyperparameter_ranges": [{"name": "alpha", "param_type": "float", "min": 0.1, "max": 1.0}],
            "objective_options": {"source": "/etc"},
        },
    )
    assert r.status_code == 422 and "source" in r.text


def test_rate_limit_429(tmp_path):
    store = JobStore(tmp_path / "j.sqlite")
    app = create_app(
        ApiSettings(api_key=KEY, jobs_url=store.url, rate_limit=1, rate_burst=3),
        manager=JobManager(store, NullExecutor()),
    )
    with TestClient(app) as c:
        codes = [c.get(f"{API_PREFIX}/jobs", headers=H).status_code for _ in range(6)]
        assert codes[:3] == [200] * 3 and 429 in codes[3:], codes
        r = c.post(f"{API_PREFIX}/sentiment/analyze", json={"text": "ok"}, headers=H)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert c.get(f"{API_PREFIX}/health").status_code == 200  # health is exempt


def test_health_reports_the_job_monitor(tmp_path):
    "/health shows the job monitor and the lease; a stopped monitor makes the server 'degraded'."
    app = create_app(ApiSettings(api_key=KEY, jobs_url=str(tmp_path / "jobs.sqlite"), rate_limit=0))
    with TestClient(app) as c:
        h = c.get(f"{API_PREFIX}/health").json()
        assert h["status"] == "ok" and h["jobs"]["monitor_alive"] and h["jobs"]["lease"] == "held", h
        m = app.state.manager
        m._stop.set()  # the monitor thread ends
        m._thread.join(5)
        h = c.get(f"{API_PREFIX}/health").json()
        assert h["status"] == "degraded" and not h["jobs"]["monitor_alive"], h


def test_second_server_on_one_job_table_is_refused(tmp_path):
    "A second `cryptoml serve` on the same job table exits with a clear error instead of taking the first one's jobs."
    srv = Server(tmp_path).start()
    try:
        env = {**srv.env, "CRYPTOML_API_RATE": "0"}
        code = f"import sys; from cryptoml.api import serve_main; sys.exit(serve_main(['--port', '{_free_port()}']))"
        res = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert res.returncode == 2 and "already served by another job executor" in res.stderr, res.stderr[-2000:]
        assert httpx.get(srv.url + f"{API_PREFIX}/health", timeout=5).json()["jobs"]["lease"] == "held"
    finally:
        srv.stop()


# --- a real server on loopback -------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    "`cryptoml serve` (serve_main) in a subprocess on 127.0.0.1."

    def __init__(self, tmp: Path, grace: float = 10.0):
        self.port, self.tmp = _free_port(), tmp
        self.env = {
            **os.environ,
            "CRYPTOML_API_KEY": KEY,
            "CRYPTOML_JOBS_URL": str(tmp / "jobs.sqlite"),
            "CRYPTOML_MODELS_DIR": str(tmp / "models"),
            "CRYPTOML_API_RATE": "0",
            "CRYPTOML_CANCEL_GRACE": str(grace),
            "PYTHONUNBUFFERED": "1",
        }
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self, timeout: float = 60):
        self.log = open(self.tmp / f"server-{time.time_ns()}.log", "w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import sys; from cryptoml.api import serve_main; sys.exit(serve_main(['--port', '{self.port}', '--log-level', 'warning']))",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(self.tmp / self.log.name).read_text()[-2000:]}")
            try:
                if httpx.get(self.url + f"{API_PREFIX}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError("server did not start")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def _wait(c: httpx.Client, job_id: str, states=FINAL, timeout=90, pred=None):
    t0, j = time.time(), None
    while time.time() - t0 < timeout:
        j = c.get(f"{API_PREFIX}/jobs/{job_id}").json()
        if j["status"] in states and (pred is None or pred(j)):
            return j
        time.sleep(0.1)
    raise TimeoutError(f"job {job_id}: {j}")


def test_end_to_end_uvicorn(tmp_path):
    "A real server over HTTP: docs, analysis routes, a job to completion, and a cancel within the grace period."
    srv = Server(tmp_path, grace=10).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30, headers=H) as c:
            assert c.get("/openapi.json").json()["info"]["title"].startswith("cryptoml")
            assert c.get("/docs").status_code == 200
            r = c.post(
                f"{API_PREFIX}/sentiment/analyze", json={"text": "ETH dumps, traders rekt", "sources": ["vader"]}
            )
            assert r.status_code == 200 and r.json()["label"] == "negative"
            candles = _candles(400)
            r = c.post(
                f"{API_PREFIX}/regime/detect",
                json={"prices": [x["close"] for x in candles], "volumes": [x["volume"] for x in candles]},
            )
            assert r.status_code == 200 and r.json()["regime"] in (
                "bullish",
                "bearish",
                "ranging",
                "volatile",
                "trending",
            )
            assert c.post(f"{API_PREFIX}/rl/train", json={}, headers={"X-API-Key": ""}).status_code == 401
            r = c.post(
                f"{API_PREFIX}/rl/train",
                headers=H,
                json={"agent_type": "qlearning", "market_data": candles, "total_timesteps": 2000},
            )
            assert r.status_code == 202
            j = _wait(c, r.json()["id"])
            assert j["status"] == "succeeded" and j["result"]["timesteps"] == 2000, j
            r = c.post(
                f"{API_PREFIX}/rl/train",
                headers=H,
                json={"agent_type": "qlearning", "market_data": candles, "total_timesteps": 2_000_000},
            )
            jid = r.json()["id"]
            _wait(c, jid, states=("running",), pred=lambda j: j["progress"] > 0, timeout=60)
            t0 = time.time()
            assert c.delete(f"{API_PREFIX}/jobs/{jid}", headers=H).json()["cancel_requested"]
            j = _wait(c, jid, timeout=30)
            assert j["status"] == "cancelled" and time.time() - t0 < 10, (
                j,
                time.time() - t0,
            )  # cooperative: before the grace period
            assert [x["id"] for x in c.get(f"{API_PREFIX}/jobs", params={"kind": "rl_train"}).json()][:1] == [jid]
    finally:
        srv.stop()


@pytest.mark.slow
def test_ppo_cancel_within_grace(tmp_path):
    "PPO stops through its SB3 callback (returns False) well within the grace period; a stubborn job is killed after it."
    app = create_app(ApiSettings(api_key=KEY, jobs_url=str(tmp_path / "jobs.sqlite"), rate_limit=0, cancel_grace=10))
    with TestClient(app, headers=H) as c:
        r = c.post(
            f"{API_PREFIX}/rl/train",
            json={"agent_type": "ppo", "market_data": _candles(400), "total_timesteps": 2_000_000},
        )
        jid = r.json()["id"]
        _wait(c, jid, states=("running",), pred=lambda j: j["progress"] > 0, timeout=90)
        t0 = time.time()
        c.delete(f"{API_PREFIX}/jobs/{jid}")
        j = _wait(c, jid, timeout=30)
        assert j["status"] == "cancelled" and j["error"] == "cancelled" and time.time() - t0 < 10, (j, time.time() - t0)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def test_job_survives_sigkill_and_resumes(tmp_path):
    "kill -9 of the server mid-job: the record is intact; at restart the job is interrupted, re-queued and resumes."
    srv = Server(tmp_path).start()
    candles = _candles(400)
    body = {"agent_type": "qlearning", "market_data": candles, "total_timesteps": 60_000, "seed": 1}
    try:
        with httpx.Client(base_url=srv.url, timeout=30, headers=H) as c:
            jid = c.post(f"{API_PREFIX}/rl/train", json=body).json()["id"]
            before = _wait(c, jid, states=("running",), pred=lambda j: j["progress"] >= 0.2, timeout=60)
        store = JobStore(tmp_path / "jobs.sqlite")
        from sqlalchemy.orm import Session

        with Session(store.engine) as s:
            worker = s.get(JobRow, jid).worker
        worker_pid = int(worker.split(":")[1])
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(10)
        t0 = time.time()
        while _pid_alive(worker_pid) and time.time() - t0 < 10:
            time.sleep(0.1)
        assert not _pid_alive(worker_pid), "the job process outlived the server"
        rec = store.get(jid)
        assert rec.status.value == "running" and rec.params["total_timesteps"] == 60_000
        assert rec.params["market_data"][0]["close"] == candles[0]["close"] and rec.progress >= before["progress"]
        srv.stop()
        srv2 = Server(tmp_path).start()
        try:
            with httpx.Client(base_url=srv2.url, timeout=30, headers=H) as c:
                j = _wait(c, jid, timeout=90)
                assert j["status"] == "succeeded", (j["error"], j)
                assert j["attempt"] == 2 and j["result"]["resumed_from"] > 0 and j["result"]["timesteps"] == 60_000, j
        finally:
            srv2.stop()
    finally:
        srv.stop(signal.SIGKILL)


# --- an optimization on the Dask backend -----------------------------------------------------------------------------------
def test_optimize_on_dask_runs_exactly_n_trials(tmp_path, monkeypatch):
    pytest.importorskip("cryptoml.automl")
    from distributed import LocalCluster

    monkeypatch.setenv("CRYPTOML_MODELS_DIR", str(tmp_path / "models"))
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        app = create_app(
            ApiSettings(
                api_key=KEY,
                jobs_url=str(tmp_path / "jobs.sqlite"),
                rate_limit=0,
                executor="dask",
                dask_address=cluster.scheduler_address,
            )
        )
        with TestClient(app, headers=H) as c:
            req = {
                "model_type": "ridge",
                "search_strategy": "random",
                "n_trials": 4,
                "seed": 0,
                "hyperparameter_ranges": [
                    {"name": "alpha", "param_type": "float", "min": 0.01, "max": 100, "log": True}
                ],
                "objective_options": {"source": "synthetic", "limit": 400, "n_splits": 2},
            }
            r = c.post(f"{API_PREFIX}/optimize", json=req)
            assert r.status_code == 202
            t0, j = time.time(), None
            while time.time() - t0 < 90:
                j = c.get(f"{API_PREFIX}/jobs/{r.json()['id']}").json()
                if j["status"] in FINAL:
                    break
                time.sleep(0.2)
            assert j["status"] == "succeeded", (j["error"], j)
            res = j["result"]
            assert len(res["trials"]) == 4 and res["n_complete"] + res["n_failed"] + res["n_pruned"] == 4, res
            assert res["n_complete"] == 4 and res["best_params"]


# --- volatility forecast ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["persistence", "ewma", "har", "harq", "garch", "gjr"])
def test_volatility_forecast_every_model(client, model):
    r = client.post(
        f"{API_PREFIX}/volatility/forecast", headers=H, json={"candles": _candles(1200), "model": model, "horizon": 24}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == model and body["horizon"] == 24 and body["n_candles"] == 1200
    assert 0 < body["variance"] < 1 and abs(body["volatility"] ** 2 - body["variance"]) < 1e-12
    assert body["timestamp"].startswith(_candles(1200)[-1]["timestamp"][:19])


def test_volatility_forecast_refuses_bad_input(client):
    flat = [dict(c, open=50.0, high=50.0, low=50.0, close=50.0) for c in _candles(1000)]
    cases = [
        ({"candles": flat, "model": "garch"}, "never move"),
        ({"candles": _candles(200), "model": "har"}, "too short"),
        ({"candles": _candles(250), "model": "garch"}, "GARCH needs at least"),
        ({"candles": _candles(100), "horizon": 10_000}, "less than or equal to 720"),
        ({"candles": _candles(100), "model": "figarch"}, "persistence"),
    ]
    for body, msg in cases:
        r = client.post(f"{API_PREFIX}/volatility/forecast", headers=H, json=body)
        assert r.status_code == 422 and msg in r.text, (body.get("model"), r.status_code, r.text[:300])
        json.loads(r.text)


# --- portfolio weights ---------------------------------------------------------------------------------------------
def test_portfolio_weights(client):
    "Scores or candles of several coins in, weights out; bounded and validated like the other routes."
    url = f"{API_PREFIX}/portfolio/weights"
    r = client.post(url, headers=H, json={"scores": {"BTC/USD": 0.4, "ETH/USD": -0.1, "SOL/USD": 1.2}})
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["timestamp"] is None and abs(b["net"]) < 1e-9 and abs(b["gross"] - 1) < 1e-9
    assert b["weights"]["SOL/USD"] > 0 > b["weights"]["ETH/USD"]
    candles = {s: _candles(300, seed=i) for i, s in enumerate(["BTC/USD", "ETH/USD", "SOL/USD", "XRP/USD"])}
    r = client.post(url, headers=H, json={"candles": candles, "signal": "reversal_24", "method": "topk", "k": 1})
    assert r.status_code == 200, r.text
    w = r.json()["weights"]
    assert sorted(round(v, 9) for v in w.values()) == [-0.5, 0.0, 0.0, 0.5]
    assert r.json()["timestamp"].startswith(candles["BTC/USD"][-1]["timestamp"][:13])
    r = client.post(url, headers=H, json={"candles": candles, "method": "hrp", "risk_window": 100, "cap": 0.4})
    assert r.status_code == 200, r.text
    w = r.json()["weights"]
    assert abs(sum(w.values()) - 1) < 1e-6 and max(w.values()) <= 0.4 + 1e-9
    r = client.post(
        url,
        headers=H,
        json={"scores": {"A": 1.0, "B": 2.0}, "volatility": {"A": 0.01, "B": 0.02}, "method": "inverse_vol"},
    )
    assert r.status_code == 200 and abs(r.json()["weights"]["A"] - 2 / 3) < 1e-9, r.text
    bad = candles["ETH/USD"][:50] + [dict(candles["ETH/USD"][50], high=1.0, low=2.0)]
    for body in (
        {},
        {"scores": {f"C{i}": 1.0 for i in range(65)}},
        {"scores": {"A": 1.0}, "band": 0.1},
        {"scores": {"../x": 1.0}},
        {"scores": {"A": 1.0}, "method": "kelly"},
        {"candles": {"BTC/USD": bad}},
        {"candles": {"BTC/USD": candles["BTC/USD"]}, "signal": "carry_24"},
    ):
        r = client.post(url, headers=H, json=body)
        assert r.status_code == 422 and "Traceback" not in r.text, (
            body if len(str(body)) < 200 else "...",
            r.text[:300],
        )
    r = client.post(url, content=b'{"scores": {"A": NaN}}', headers={"content-type": "application/json", **H})
    assert r.status_code == 422
# --- the run ledger, the prediction log and model health -------------------------------------------------------------
def test_runs_prediction_log_and_model_health(tmp_path, monkeypatch):
    "GET /runs lists the ledger; /predict logs its answers when asked; /models/{id}/health reports drift and the log."
    from cryptoml.ledger import open_ledger
    from cryptoml.models.core import RidgeBaseline
    from cryptoml.monitor import drift_report, record_health
    from cryptoml.persistence import save_model
    from cryptoml.pipeline import Preparation

    models = tmp_path / "models"
    monkeypatch.setenv("CRYPTOML_MODELS_DIR", str(models))
    url = str(tmp_path / "jobs.sqlite")
    candles = synthetic_ohlcv(1500, seed=5)
    ridge = RidgeBaseline(alpha=10.0)
    ridge.fit_from_frame(candles.iloc[:800], Preparation(sequence_length=4))
    mid = save_model(ridge, path=models / "ridge-live", training_data=candles.iloc[:800]).name
    led = open_ledger(url)
    led.finish(led.start("template", "train", "train-1", parameters={"epochs": 1}), metrics={"rmse": 0.1})
    app = create_app(ApiSettings(api_key=KEY, jobs_url=url, rate_limit=0, prediction_log=True))
    with TestClient(app, headers=H) as c:
        runs = c.get(f"{API_PREFIX}/runs", params={"template": "train"}).json()
        assert [r["id"] for r in runs] == ["train-1"] and runs[0]["metrics"] == {"rmse": 0.1}, runs
        assert c.get(f"{API_PREFIX}/runs/train-1").json()["status"] == "succeeded"
        assert c.get(f"{API_PREFIX}/runs/nope").status_code == 404
        assert c.get(f"{API_PREFIX}/runs", params={"kind": "notebook"}).status_code == 422
        h = c.get(f"{API_PREFIX}/models/{mid}/health").json()
        assert (h["status"], h["predictions_logged"], h["drift"]) == ("unknown", 0, None), h
        r = c.post(f"{API_PREFIX}/predict", json={"model_id": mid, "candles": _candles(600, seed=9)})
        n = len(r.json()["predictions"])
        h = c.get(f"{API_PREFIX}/models/{mid}/health").json()
        assert h["predictions_logged"] == n and h["logged_prediction_drift"]["n"] == n, h
        record_health(mid, drift_report(models / mid, candles.iloc[800:]), url=url)
        h = c.get(f"{API_PREFIX}/models/{mid}/health").json()
        assert h["drift"]["kind"] == "drift" and h["status"] in ("ok", "drift"), h
        assert h["status"] == (
            "drift" if h["drift"]["drift"] or h["logged_prediction_drift"]["flag"] == "drift" else "ok"
        )
        assert c.get(f"{API_PREFIX}/models/nope/health").status_code == 404
    off = create_app(ApiSettings(api_key=KEY, jobs_url=url, rate_limit=0))  # the log is off by default
    with TestClient(off, headers=H) as c:
        c.post(f"{API_PREFIX}/predict", json={"model_id": mid, "candles": _candles(600, seed=9)})
        assert c.get(f"{API_PREFIX}/models/{mid}/health").json()["predictions_logged"] == n


def test_jobs_are_recorded_in_the_ledger(tmp_path, monkeypatch):
    "An API job writes its ledger row: the job id, its kind, status, seed, figures and the agent file."
    monkeypatch.setenv("CRYPTOML_MODELS_DIR", str(tmp_path / "models"))
    app = create_app(ApiSettings(api_key=KEY, jobs_url=str(tmp_path / "jobs.sqlite"), rate_limit=0))
    with TestClient(app, headers=H) as c:
        body = {"agent_type": "qlearning", "market_data": _candles(300), "total_timesteps": 2000, "seed": 4}
        jid = c.post(f"{API_PREFIX}/rl/train", headers={"X-API-Key": KEY}, json=body).json()["id"]
        assert _wait(c, jid)["status"] == "succeeded"
        run = c.get(f"{API_PREFIX}/runs/{jid}").json()
        assert (run["kind"], run["template"], run["status"], run["seeds"]) == ("job", "rl_train", "succeeded", [4]), run
        assert run["metrics"]["timesteps"] == 2000 and run["parameters"]["market_data"] == "<300 items>"
        assert run["artifacts"]["agent_file"].startswith("agents/") and run["duration"] > 0
        assert [r["id"] for r in c.get(f"{API_PREFIX}/runs", params={"kind": "job"}).json()] == [jid]


def test_ensemble_predicts_through_the_api(tmp_path, monkeypatch):
    "A saved ensemble (members nested in its folder) answers /predict like its in-process self."
    import pandas as pd

    from cryptoml.models.core import make_engine
    from cryptoml.persistence import save_model
    from cryptoml.pipeline import Preparation

    monkeypatch.setenv("CRYPTOML_MODELS_DIR", str(tmp_path / "models"))
    ens = make_engine("ensemble", members=["ridge", "last"], method="stacking", inner_splits=2)
    ens.fit_from_frame(synthetic_ohlcv(900, seed=2), Preparation(sequence_length=4))
    mid = save_model(ens, path=tmp_path / "models" / "ens").name
    app = create_app(ApiSettings(api_key=KEY, jobs_url=str(tmp_path / "jobs.sqlite"), rate_limit=0))
    with TestClient(app, headers=H) as c:
        r = c.post(f"{API_PREFIX}/predict", json={"model_id": mid, "candles": _candles(300, seed=8)})
        assert r.status_code == 200 and r.json()["model_type"] == "EnsembleEngine", r.text
        got = [p["value"] for p in r.json()["predictions"]]
    df = pd.DataFrame(_candles(300, seed=8)).assign(timestamp=lambda d: pd.to_datetime(d["timestamp"]))
    want = ens.predict(df.set_index("timestamp"))
    assert len(got) == len(want) and max(abs(a - b) for a, b in zip(got, want)) < 1e-9
