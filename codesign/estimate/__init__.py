"""Area, energy and latency estimates from a component library (docs/estimate.md).

    from codesign.estimate import estimate
    est = estimate("ambrogio2018")            # peak: every tile one full MVM
    est = estimate(spec, net="mlp-2018")      # a network (codesign.network / mapping)
    est.to_dict()                             # the `codesign estimate --json` object
"""
from .components import Library, load_components
from .estimate import Estimate, estimate
from .price import price
from .tile_costs import COMPONENT_OF_EVENT, TileCosts, tile_costs
from .workload import (Workload, WorkloadLayer, peak_workload, workload_from_dict,
                       workload_from_network)

__all__ = ["COMPONENT_OF_EVENT", "Estimate", "Library", "TileCosts", "Workload", "price",
           "WorkloadLayer", "estimate", "load_components", "peak_workload", "tile_costs",
           "workload_from_dict", "workload_from_network"]


class _EstimatePackage(__import__("types").ModuleType):
    """`from codesign import estimate` finds this package once it is imported (a package
    attribute wins over codesign.__getattr__); calling it calls estimate(), so the API
    name works whichever way it was reached."""

    def __call__(self, *args, **kwargs) -> Estimate:
        return estimate(*args, **kwargs)


__import__("sys").modules[__name__].__class__ = _EstimatePackage
