"""Capture: pure functions that turn a cell, its namespace and its kernel into run facets.

Nothing here imports IPython, tornado or jupyter_server, and nothing imports
pandas, NumPy, scikit-learn or matplotlib unless the cell already did: each
module checks ``sys.modules`` first, so tracking costs a kernel only what its
cell already uses.
"""
