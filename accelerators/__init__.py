"""Accelerator models: tensor engines, bit-weight arrays, OMAP, computational-storage attention."""
