"""RTL generators built from the units' configs (installs as ``hwsim.rtl``).

* :mod:`hwsim.rtl.systolic` -- :class:`~hwsim.rtl.systolic.SystolicArray`, the Amaranth
  systolic array (port and latency contract in its docstring);
* :mod:`hwsim.rtl.export` -- reproducible Verilog, JSON sidecar and FuseSoC core;
* :mod:`hwsim.rtl.synth` -- Yosys / nextpnr-ecp5 resource and Fmax reports;
* :mod:`hwsim.rtl.cli` -- ``hwsim rtl emit|synth``;
* :mod:`hwsim.rtl.bitweight_encoder` -- EN-T and radix-4 Booth digit encoders;
* :mod:`hwsim.rtl.compressor` -- our Dadda compressor tree (``BitMatrix``, ``cpa``);
* :mod:`hwsim.rtl.mac_pe` -- MAC PE variants (naive, booth, ent, opt1, digit_serial);
* :mod:`hwsim.rtl.carry_save` -- carry-save nodes and reductions shared by the engines;
* :mod:`hwsim.rtl.engine_common` -- the tensor-engine port protocol and generator registry;
* :mod:`hwsim.rtl.engine_export` -- any engine's Verilog and sidecar (``hwsim rtl emit engine``);
* :mod:`hwsim.rtl.flows` -- generic, OSU018 liberty, ECP5 and toggle-energy flows.

Importing this package imports nothing else: Amaranth loads only with the modules above.
"""
