"""Run the cross product on a Ray cluster: ``harness run --executor ray [--ray-address ADDR]``.

The executor plugin of the harness (as pytest-xdist is pytest's): the core hands it work
units; it starts replicas (Ray actors) that load a model or scorer once and are fed batches,
longest first, to whichever replica is free; the driver commits every finished batch. Ray is
imported only when a run actually uses this executor (the ``distributed`` extra).
"""
