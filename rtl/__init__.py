"""RTL generators built from the units' configs (installs as ``hwsim.rtl``).

* :mod:`hwsim.rtl.systolic` -- :class:`~hwsim.rtl.systolic.SystolicArray`, the Amaranth
  systolic array (port and latency contract in its docstring);
* :mod:`hwsim.rtl.export` -- reproducible Verilog, JSON sidecar and FuseSoC core;
* :mod:`hwsim.rtl.synth` -- Yosys / nextpnr-ecp5 resource and Fmax reports;
* :mod:`hwsim.rtl.cli` -- ``hwsim rtl emit|synth``.

Importing this package imports nothing else: Amaranth loads only with the modules above.
"""
