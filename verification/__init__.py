"""Co-simulation: cocotb benches (``tb_<unit>.py``), generic stream driver/monitor
(:mod:`.streams`), scoreboards (:mod:`.scoreboard`) and the runner glue (:mod:`.runner`).

Kept light: importing this package imports neither cocotb nor a simulator.
"""
