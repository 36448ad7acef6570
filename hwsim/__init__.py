"""hwsim: cycle-approximate hardware models beside RTL generators, verified against each other.

The core (this package) never imports amaranth or cocotb; units live in ``hwsim.memory``,
``hwsim.accelerators``, ``hwsim.rtl`` and ``hwsim.verification``.
"""

from hwsim.config import ConfigBase, ConfigError, param
from hwsim.workloads import ConvLayer, Gemm, Workload, load_network, load_topology

__version__ = "0.1.0"

__all__ = [
    "ConfigBase",
    "ConfigError",
    "param",
    "Gemm",
    "ConvLayer",
    "Workload",
    "load_network",
    "load_topology",
    "__version__",
]
