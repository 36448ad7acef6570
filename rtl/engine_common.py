"""What every tensor-engine generator shares: the port protocol, the fold stimulus and the registry.

One :class:`hwsim.accelerators.engines.EngineConfig` drives the model, the golden function, the
generator and the bench. Every engine generator is an Amaranth ``wiring.Component`` with the
same three :mod:`amaranth.lib.stream` ports plus the implicit ``clk``/``rst`` of ``sync``:

=======  ==============================================================================
port     payload ``StructLayout({"data": ArrayLayout(signed(W), N), "last": 1})``
=======  ==============================================================================
``i_a``  operand A beats (``W = in_width_bits``; ``N`` and beat order per engine)
``i_b``  operand B beats (``W = in_width_bits``)
``o_c``  result beats (``W = acc_width_bits``)
=======  ==============================================================================

In Verilog ``X__payload[e*W +: W]`` is element ``e`` and bit ``N*W`` is ``last``, exactly as in
:mod:`hwsim.rtl.systolic`. Each engine's module documents which elements a beat carries and
exports, besides its component class:

* ``check_rtl_config(config) -> None`` -- raises :class:`~hwsim.config.ConfigError` (one line,
  naming the field and the allowed values) for a config the generator does not build;
* ``fold_stimulus(config, a_tile, b_tile) -> FoldStimulus`` -- the beats of one fold for
  ``C_tile = A_tile @ B_tile`` (tile shapes within the engine's fold dimensions; smaller tiles
  are padded with zeros by the function), the result beats the DUT must send (wrapped to
  ``acc_width_bits``), and the fold's cycle contract: cycles from the first accepted input beat
  to the last ``o_c`` beat, inclusive, with every valid and ``o_c.ready`` held high. That
  number must equal :func:`hwsim.accelerators.engines.model.fold_cycles` for the fold (for
  digit-serial engines: for the fold's data).

Folds run one after another: after a fold's last ``o_c`` beat the DUT accepts the next fold.
The DUT is correct under any valid/ready throttling on every port.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from hwsim.accelerators.engines import EngineConfig
from hwsim.config import ConfigError

__all__ = ["FoldStimulus", "ENGINE_RTL", "rtl_module", "build_engine", "engine_fold_stimulus"]


@dataclass(frozen=True)
class FoldStimulus:
    """One fold's input beats, expected output beats and cycle contract.

    Every beat is a list of signed element values (Python ints) in the port's element order.
    ``a_last`` / ``b_last`` say which input beats carry ``last`` (by default the final one).
    """

    a_beats: list[list[int]]
    b_beats: list[list[int]]
    c_beats: list[list[int]]
    contract_cycles: int
    a_last: list[bool] = field(default_factory=list)
    b_last: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.a_last:
            object.__setattr__(self, "a_last", [i == len(self.a_beats) - 1
                                                for i in range(len(self.a_beats))])
        if not self.b_last:
            object.__setattr__(self, "b_last", [i == len(self.b_beats) - 1
                                                for i in range(len(self.b_beats))])


#: Engine name -> the module (under ``hwsim.rtl``) that generates it. The module exports
#: ``ENGINE_CLASS`` (the component class), ``check_rtl_config`` and ``fold_stimulus``.
ENGINE_RTL: dict[str, str] = {
    "systolic": "hwsim.rtl.engine_systolic",
    "cube": "hwsim.rtl.cube",
    "matrix2d": "hwsim.rtl.matrix2d",
    "tree": "hwsim.rtl.tree",
    "bitslice": "hwsim.rtl.bitslice",
}


def rtl_module(config: EngineConfig):  # noqa: ANN201 - a module object
    """The generator module of ``config.engine``; one-line ConfigError if none is built yet."""
    name = ENGINE_RTL.get(config.engine)
    if name is None:
        raise ConfigError(
            f"engine: no RTL generator for {config.engine!r}; generated: {', '.join(ENGINE_RTL)}"
        )
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise ConfigError(f"engine: the {config.engine!r} RTL generator is not built yet") from None
    module.check_rtl_config(config)
    return module


def build_engine(config: EngineConfig):  # noqa: ANN201 - a wiring.Component
    """The Amaranth component of ``config`` (checked with the engine's ``check_rtl_config``)."""
    return rtl_module(config).ENGINE_CLASS(config)


def engine_fold_stimulus(config: EngineConfig, a_tile, b_tile) -> FoldStimulus:  # noqa: ANN001
    """The fold stimulus of ``config``'s engine for ``A_tile @ B_tile`` (numpy int arrays)."""
    return rtl_module(config).fold_stimulus(config, a_tile, b_tile)
