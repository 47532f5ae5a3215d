"""Speed of the RL trading environment (`cryptoml.rl.env.TradingEnv`) against gym-anytrading's `StocksEnv`.

Both environments step through the same candles with the same pre-drawn random actions, interleaved in one run
(best and median of several full passes, so machine load hits both alike). Then several copies are stepped at once:
both in stable-baselines3's DummyVecEnv, and ours also in the numpy-batched `VecTradingEnv`. Last, PPO's training
throughput (timesteps per second) is measured on each vectorized form.

Usage: .venv/bin/python benchmarks/rl_env.py [--candles 20000] [--repeats 7] [--ppo-steps 4096]
"""

import argparse, os, platform, statistics, time, warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def load_candles(n: int) -> tuple[pd.DataFrame, str]:
    from cryptoml.core import shared_data_dir

    d = shared_data_dir()
    if d is not None and (d / "BTC-USD_1h.csv").exists():
        from cryptoml.data import read_ohlcv_file

        return read_ohlcv_file(d / "BTC-USD_1h.csv").iloc[-n:], f"BTC-USD 1h (Binance, last {n} candles)"
    from cryptoml.data import synthetic_ohlcv

    return synthetic_ohlcv(n, seed=0), f"synthetic 1h ({n} candles)"


def full_pass(env, actions) -> tuple[int, float]:
    "Steps and seconds of one episode driven by `actions` (until the episode ends)."
    env.reset(seed=0)
    step = env.step
    k = 0
    t0 = time.perf_counter()
    for a in actions:
        _, _, term, trunc, _ = step(a)
        k += 1
        if term or trunc:
            break
    return k, time.perf_counter() - t0


def vec_rate(venv, n_envs: int, steps: int, n_actions: int) -> float:
    rng = np.random.default_rng(1)
    acts = rng.integers(0, n_actions, (steps, n_envs))
    venv.reset()
    t0 = time.perf_counter()
    for a in acts:
        venv.step(a)
    return steps * n_envs / (time.perf_counter() - t0)


def single_env_compare(ours, theirs, n: int, repeats: int) -> None:
    "Interleaved full passes of both environments with the same random actions; prints rates and ratios."
    rng = np.random.default_rng(0)
    acts3 = rng.integers(0, 3, n).tolist()  # short / flat / long
    acts2 = [a % 2 for a in acts3]  # sell / buy
    hold = [2] * n  # always long: no trades after the first
    rates = {"ours (random actions)": [], "ours (always long)": [], "gym-anytrading (random actions)": []}
    for _ in range(repeats):  # interleaved, so machine load hits both alike
        for name, env, acts in (
            ("ours (random actions)", ours, acts3),
            ("gym-anytrading (random actions)", theirs, acts2),
            ("ours (always long)", ours, hold),
        ):
            k, dt = full_pass(env, acts)
            rates[name].append(k / dt)
    print(f"\nsingle environment, {n} candles, steps per second (best / median of {repeats} full passes):")
    for name, r in rates.items():
        print(f"  {name:34s} {max(r):>12,.0f} / {statistics.median(r):>12,.0f}")
    ref = rates["gym-anytrading (random actions)"]
    ratio_best = max(rates["ours (random actions)"]) / max(ref)
    ratio_med = statistics.median(rates["ours (random actions)"]) / statistics.median(ref)
    print(
        f"  ratio ours / gym-anytrading (random actions): {ratio_best:.2f}x best, {ratio_med:.2f}x median (goal >= 3x)"
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--candles", type=int, default=20_000)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--ppo-steps", type=int, default=4096)
    args = ap.parse_args()

    from gym_anytrading.envs import StocksEnv
    from cryptoml.rl.env import TradingEnv

    df, what = load_candles(args.candles)
    w = args.window
    ours = TradingEnv(df, window=w, action_mode="positions", fee_bps=10)
    theirs = StocksEnv(df=df.rename(columns=str.capitalize), window_size=w, frame_bound=(w, len(df)))
    print(f"candles: {what}; window {w}; python {platform.python_version()}, {os.cpu_count()} cpus")
    print(
        f"cryptoml TradingEnv: obs {ours.observation_space.shape} ({len(ours.feature_names)} features x {w} "
        f"+ position), {ours.action_space}, {ours.n_steps} steps per pass"
    )
    print(f"gym-anytrading StocksEnv: obs {theirs.observation_space.shape}, {theirs.action_space}")

    for n in sorted({len(df), min(5000, len(df))}, reverse=True):  # also a shorter series: the working set matters
        d = df.iloc[-n:]
        o = ours if n == len(df) else TradingEnv(d, window=w, action_mode="positions", fee_bps=10)
        t = (
            theirs
            if n == len(df)
            else StocksEnv(df=d.rename(columns=str.capitalize), window_size=w, frame_bound=(w, len(d)))
        )
        single_env_compare(o, t, len(d), args.repeats)

    from stable_baselines3.common.vec_env import DummyVecEnv
    from cryptoml.rl.env import make_vec_env

    print("\nvectorized, env steps per second over all copies (best of 3):")
    mk_theirs = lambda: StocksEnv(df=df.rename(columns=str.capitalize), window_size=w, frame_bound=(w, len(df)))
    for n_envs in (8, 64):
        steps = max(20_000 // n_envs, 200)
        v_t = DummyVecEnv([mk_theirs] * n_envs)
        v_d = make_vec_env(ours, n_envs, "dummy", random_start=True, episode_length=1000)
        v_b = make_vec_env(ours, n_envs, "batched", random_start=True, episode_length=1000)
        r_t = max(vec_rate(v_t, n_envs, steps, 2) for _ in range(3))
        r_d = max(vec_rate(v_d, n_envs, steps, 3) for _ in range(3))
        r_b = max(vec_rate(v_b, n_envs, steps, 3) for _ in range(3))
        print(
            f"  x{n_envs:<3d} gym-anytrading DummyVecEnv {r_t:>11,.0f} | ours DummyVecEnv {r_d:>11,.0f} "
            f"({r_d / r_t:.2f}x) | ours VecTradingEnv (numpy batched) {r_b:>12,.0f} ({r_b / r_t:.1f}x)"
        )

    import torch

    torch.set_num_threads(1)
    from stable_baselines3 import PPO
    from cryptoml.rl.agents import sb3_vec_env

    fps = {}
    train_env = ours.clone(random_start=True, episode_length=1000)
    runs = (
        ("gym-anytrading, DummyVecEnv x4", DummyVecEnv([mk_theirs] * 4)),
        ("ours, DummyVecEnv x4", make_vec_env(train_env, 4, "dummy")),
        ("ours, VecTradingEnv x4", sb3_vec_env(train_env, 4, "batched")),
    )
    for name, venv in runs:
        model = PPO("MlpPolicy", venv, n_steps=128, batch_size=64, n_epochs=4, seed=0, device="cpu", verbose=0)
        model.learn(512)  # warm-up
        t0 = time.perf_counter()
        model.learn(args.ppo_steps, reset_num_timesteps=False)
        fps[name] = args.ppo_steps / (time.perf_counter() - t0)
    print(
        f"\nPPO (MlpPolicy 64x64, 4 envs x n_steps 128, batch 64, 4 epochs, 1 torch thread), "
        f"timesteps per second over {args.ppo_steps}:"
    )
    for name, f in fps.items():
        print(f"  {name:32s} {f:>8,.0f}")


if __name__ == "__main__":
    main()
