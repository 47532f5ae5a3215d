"""Quality of the RL agents on real candles: can they learn, do they trade at a sane pace, do they beat the baselines?

Trained on the shared Binance hourly candles before a cut-off date and evaluated after it (10 bps fee, fills at the
next open), three measurements:

1. the learnability curve: PPO given a leaked next-candle return at several noise levels (and without it); excess log
   return over buy-and-hold by leak strength (goal: a wide margin with the clean leak, falling with the noise);
2. one coin (BTC): Q-learning and the default PPO (pace rules chosen on the training period) beside buy-and-hold, a
   volatility-targeted position and a random agent trading as often as each agent; out-of-sample net Sharpe,
   drawdown, turnover and trades over seeds (goal: PPO trades at most a few hundred times a year and its net Sharpe
   is at least the random agent's of equal pace);
3. several coins: PPO and SAC allocating across coins and cash beside buy-and-hold of the basket, the equal-weight and
   the volatility-targeted baskets and a random allocator of the same pace.

Usage: .venv/bin/python benchmarks/rl_quality.py [--cutoff 2023-01-01] [--train-start 2021-01-01] [--workers 2]
       [--quick]   (tiny budgets: checks that the script runs, in about a minute)
"""

import argparse, logging, os, platform, time, warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 20)


def load(symbols, start: str, cutoff: str):
    "Candles of one coin or a panel from the shared data directory, split at the cut-off."
    from cryptoml.core import shared_data_dir
    from cryptoml.data import load_market_data
    from cryptoml.rl.compare import split_period

    d = shared_data_dir()
    if d is None:
        raise SystemExit("the shared data directory (../shared/data) is needed for this benchmark")
    df = load_market_data(symbols, "1h", limit=None, source=d, start=start, end="2023-06-30 23:00")
    return split_period(df, cutoff)


def show(title: str, frame: pd.DataFrame) -> None:
    print(f"\n{title}\n{frame.round(3).to_string()}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cutoff", default="2023-01-01")
    ap.add_argument("--train-start", default="2021-01-01")
    ap.add_argument("--symbols", default="BTC/USD,ETH/USD,BNB/USD,SOL/USD")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--q-steps", type=int, default=100_000)
    ap.add_argument("--ppo-steps", type=int, default=60_000)
    ap.add_argument("--sac-steps", type=int, default=10_000)
    ap.add_argument("--learn-steps", type=int, default=16_384)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    if a.quick:
        a.seeds, a.q_steps, a.ppo_steps, a.sac_steps, a.learn_steps = 1, 3000, 2048, 300, 2048
    logging.getLogger("cryptoml").setLevel(logging.ERROR)

    from cryptoml.rl.agents import PPOAgent, QLearningAgent, SACAgent
    from cryptoml.rl.compare import compare_agents, learnability_check, periods_table

    seeds = tuple(range(a.seeds))
    run = dict(executor="process" if a.workers > 1 else "inprocess", workers=a.workers if a.workers > 1 else None)
    env = dict(fee_bps=10.0, execution="next_open", episode_length=1000)
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus, {a.workers} worker(s); fee 10 bps, next open")
    t00 = time.perf_counter()

    train, test = load("BTC/USD", a.train_start, a.cutoff)
    show("periods (one coin)", periods_table(train, test))

    # 1. learnability: PPO with a leaked next return
    t0 = time.perf_counter()
    fast_ppo = PPOAgent(n_steps=128, batch_size=64, n_epochs=4, learning_rate=1e-3, ent_coef=0.0, n_envs=4)
    lc = learnability_check(
        fast_ppo,
        train,
        test,
        noises=(0.0, 0.5, 1.0, 2.0, 4.0),
        seeds=seeds[:2],
        total_timesteps=a.learn_steps,
        env_kwargs=dict(env, window=4),
        **run,
    )
    show(f"1. learnability: PPO, {a.learn_steps:,} steps per run ({time.perf_counter() - t0:.0f} s)", lc.table())
    print(f"   clean leak beats buy-and-hold by > 0.5 log return on every seed: {lc.passed(0.5)}")

    # 2. one coin: Q-learning and the default PPO, paced
    t0 = time.perf_counter()
    agents = {
        "q_learning": QLearningAgent(epsilon_decay=float(np.exp(np.log(0.05) / (0.7 * a.q_steps)))),
        "ppo": PPOAgent(n_envs=4),
    }
    cmp = compare_agents(
        agents,
        train,
        test,
        seeds=seeds,
        total_timesteps={"q_learning": a.q_steps, "ppo": a.ppo_steps},
        env_kwargs=env,
        **run,
    )
    show(f"2. one coin (BTC), out of sample ({time.perf_counter() - t0:.0f} s)", cmp.table())
    show("   verdict (mean net Sharpe against each baseline)", cmp.verdict())
    show("   cost curve: mean net Sharpe of the positions taken, re-costed (fee bps)", cmp.cost_curve((0, 5, 10, 20)))
    st = cmp.table()
    ppo_ok = (
        st.loc["ppo", "trades_per_year_mean"] <= 500
        and st.loc["ppo", "sharpe_mean"] >= st.loc["random@ppo", "sharpe_mean"]
    )
    print(
        f"   goal: PPO at most a few hundred trades a year ({st.loc['ppo', 'trades_per_year_mean']:.0f}) and net "
        f"Sharpe >= the random agent of equal pace ({st.loc['ppo', 'sharpe_mean']:.2f} vs "
        f"{st.loc['random@ppo', 'sharpe_mean']:.2f}): {ppo_ok}"
    )

    # 3. several coins: PPO and SAC allocating across coins and cash
    t0 = time.perf_counter()
    ptrain, ptest = load(a.symbols.split(","), a.train_start, a.cutoff)
    pagents = {"ppo": PPOAgent(n_envs=4), "sac": SACAgent(learning_starts=1000)}
    pcmp = compare_agents(
        pagents,
        ptrain,
        ptest,
        seeds=seeds,
        total_timesteps={"ppo": a.ppo_steps, "sac": a.sac_steps},
        env_kwargs=dict(env, window=4),
        **run,
    )
    show(f"3. {a.symbols}, out of sample ({time.perf_counter() - t0:.0f} s)", pcmp.table())
    show("   verdict", pcmp.verdict())

    beats = [
        f"{nm} ({b})"
        for c in (cmp, pcmp)
        for nm, row in c.verdict().iterrows()
        for b in ("buy_and_hold", "vol_targeted")
        if row.get(f"beats {b}")
    ]
    print(f"\nagents beating buy-and-hold or the volatility-targeted baseline by mean net Sharpe: {beats or 'none'}")
    print(f"total {time.perf_counter() - t00:.0f} s")


if __name__ == "__main__":
    main()
