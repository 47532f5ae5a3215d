"""Jupyter-first research toolkit for machine learning on crypto markets

Modules:

- `cryptoml.pipeline`: `MLPipeline`: the original one-object API (load, extract features, scale, window) and `prepare`, which turns a symbol and a `PrepareConfig` into train / validation / test arrays, reproducibly and without leakage."""

__version__ = "0.1.0"
