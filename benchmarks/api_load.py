"""Load test of the ml-v2 API on loopback: concurrent clients against the regime and sentiment endpoints.

Starts `cryptoml serve` (uvicorn, one process) on a free 127.0.0.1 port with the rate limiter set high enough not to
throttle the test (it still runs on every request), then runs `--clients` concurrent httpx clients, each sending
`--requests` requests alternating between POST /regime/detect (200 closes and volumes) and POST /sentiment/analyze
(vader + textblob). Prints requests per second, p50/p95/p99 latency and errors per endpoint, and the ratio to calling the
library directly in one thread (the HTTP, validation and serialization overhead).

    python benchmarks/api_load.py [--clients 100] [--requests 20]
"""

import argparse, asyncio, os, socket, subprocess, sys, tempfile, time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "/api/ml-v2"
TEXTS = [
    "Bitcoin breaks out to a new all-time high, bulls are back",
    "ETH dumps 12% as liquidations pile up, traders rekt",
    "Exchange delists the token after the exploit",
    "Market is flat today, volume is low",
    "SOL to the moon 🚀🚀",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def payloads():
    from cryptoml.data import synthetic_ohlcv

    df = synthetic_ohlcv(2000, seed=7)
    regs = [
        {"prices": df.close.iloc[i : i + 200].tolist(), "volumes": df.volume.iloc[i : i + 200].tolist()}
        for i in range(0, 1800, 100)
    ]
    sents = [{"text": t, "sources": ["vader", "textblob"]} for t in TEXTS]
    return regs, sents


async def client_loop(c: httpx.AsyncClient, k: int, n: int, regs, sents, out: list):
    for i in range(n):
        if (k + i) % 2 == 0:
            ep, body = "regime", regs[(k + i) % len(regs)]
        else:
            ep, body = "sentiment", sents[(k + i) % len(sents)]
        path = f"{PREFIX}/regime/detect" if ep == "regime" else f"{PREFIX}/sentiment/analyze"
        t0 = time.perf_counter()
        try:
            r = await c.post(path, json=body)
            ok = r.status_code == 200
        except httpx.HTTPError:
            ok = False
        out.append((ep, time.perf_counter() - t0, ok))


async def run_load(base: str, clients: int, n: int, regs, sents) -> tuple[list, float]:
    out: list = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as c:
        await asyncio.gather(*(client_loop(c, k, 1, regs, sents, []) for k in range(4)))  # warm-up
        t0 = time.perf_counter()
        await asyncio.gather(*(client_loop(c, k, n, regs, sents, out) for k in range(clients)))
        return out, time.perf_counter() - t0


def library_rate(regs, sents, seconds: float = 3.0) -> dict:
    "Calls per second of the library itself, one thread, same inputs."
    from cryptoml.regime import market_regime_service
    from cryptoml.sentiment import sentiment_ai_service

    res = {}
    for name, f in (
        (
            "regime",
            lambda i: market_regime_service.detect_regime(
                regs[i % len(regs)]["prices"], regs[i % len(regs)]["volumes"]
            ),
        ),
        (
            "sentiment",
            lambda i: sentiment_ai_service.analyze_text(sents[i % len(sents)]["text"], sources=["vader", "textblob"]),
        ),
    ):
        f(0)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            f(n)
            n += 1
        res[name] = n / (time.perf_counter() - t0)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--requests", type=int, default=20, help="requests per client")
    args = ap.parse_args(argv)
    regs, sents = payloads()
    tmp = Path(tempfile.mkdtemp(prefix="cryptoml-bench-api-"))
    port = free_port()
    env = {
        **os.environ,
        "CRYPTOML_JOBS_URL": str(tmp / "jobs.sqlite"),
        "CRYPTOML_MODELS_DIR": str(tmp / "models"),
        "CRYPTOML_API_RATE": "1000000",
        "CRYPTOML_API_BURST": "1000000",
    }
    env.pop("CRYPTOML_API_KEY", None)
    srv = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from cryptoml.api import serve_main; serve_main(['--port', '{port}', '--log-level', 'warning'])",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + f"{PREFIX}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise SystemExit("server did not start")
        out, wall = asyncio.run(run_load(base, args.clients, args.requests, regs, sents))
    finally:
        srv.terminate()
        srv.wait(20)
    lib = library_rate(regs, sents)
    total = len(out)
    print(
        f"ml-v2 API load test: {args.clients} concurrent clients x {args.requests} requests on loopback, "
        f"one uvicorn process, {os.cpu_count()} cores"
    )
    print(
        f"{'endpoint':<10} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'library calls/s':>16} {'HTTP/library':>12}"
    )
    for ep in ("regime", "sentiment", "all"):
        rows = [r for r in out if ep == "all" or r[0] == ep]
        lat = np.array([r[1] for r in rows]) * 1000
        errs = sum(not r[2] for r in rows)
        rps = len(rows) / wall
        libr = lib.get(ep) if ep != "all" else 1 / (0.5 / lib["regime"] + 0.5 / lib["sentiment"])  # the same 50/50 mix
        extra = f"{libr:>16.0f} {rps / libr:>12.2f}" if ep == "all" else f"{libr:>16.0f} {'':>12}"
        print(
            f"{ep:<10} {len(rows):>8} {errs:>6} {rps:>8.1f} {np.percentile(lat, 50):>8.1f} {np.percentile(lat, 95):>8.1f} "
            f"{np.percentile(lat, 99):>8.1f} {extra}"
        )
    print(f"total wall time {wall:.1f}s for {total} requests; errors: {sum(not r[2] for r in out)} (expected 0)")
    print(
        "HTTP/library: requests per second through the API / calls per second of the same 50/50 mix of library calls made "
        "directly in one thread (the load generator shares the machine's cores with the server)"
    )


if __name__ == "__main__":
    main()
