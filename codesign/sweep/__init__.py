"""Design-space exploration: a grid of spec variants evaluated on Dask, results in
SQLite, Pareto fronts (docs/sweep.md).

    from codesign.sweep import parse_vary, run_sweep
    from codesign.spec import load_spec
    from codesign.network import load_network
    summary = run_sweep(load_spec("ambrogio2018"), parse_vary(["adc.bits=4,6,8"]),
                        load_network("mlp-2018"), db="sweep.db", workers=2)
"""
from .evaluate import evaluate_point, load_evaluator, run_point
from .execute import run_sweep, sweep_options
from .grid import Point, expand, parse_vary, point_key
from .pareto import OBJECTIVES, front, pareto_mask, plot_png
from .store import SCHEMA_VERSION, SweepStore

__all__ = ["OBJECTIVES", "Point", "SCHEMA_VERSION", "SweepStore", "evaluate_point", "expand",
           "front", "load_evaluator", "pareto_mask", "parse_vary", "plot_png", "point_key",
           "run_point", "run_sweep", "sweep_options"]
