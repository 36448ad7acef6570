"""Memory and platform models (``hwsim.memory``).

DRAM/HBM organisation and timing (``dram_config``, ``dram_analytical``, ``dram_cycle``,
``dram_trace``), DRAM energy from datasheet currents (``dram_energy``), sustained bank-level
PIM bandwidth (``dram_pim``), NAND flash (``flash``), PCIe/CXL links (``links``) and a GPU
roofline (``gpu``). Sub-modules are imported where used, so ``import hwsim.memory`` stays light.
"""
