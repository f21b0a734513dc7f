"""Decisions built on the optimizer and the simulation: the staffing planner (`planning.staffing`).

This package imports `optimizer` and `simulation`; they never import it.
"""
