"""Area, energy and latency estimates from a component library (docs/estimate.md).

    from codesign.estimate import estimate
    est = estimate("ambrogio2018")            # peak: every tile one full MVM
    est = estimate(spec, net="mlp-2018")      # a network (codesign.network / mapping)
    est.to_dict()                             # the `codesign estimate --json` object
"""
from .components import Library, load_components
from .estimate import Estimate, estimate
from .tile_costs import COMPONENT_OF_EVENT, TileCosts, tile_costs
from .workload import (Workload, WorkloadLayer, peak_workload, workload_from_dict,
                       workload_from_network)

__all__ = ["COMPONENT_OF_EVENT", "Estimate", "Library", "TileCosts", "Workload",
           "WorkloadLayer", "estimate", "load_components", "peak_workload", "tile_costs",
           "workload_from_dict", "workload_from_network"]
