"""A third-party executor for the core tests: runs batches in reverse order as two named "replicas".

Proves the executor seam: any executor that feeds a unit's batches to its worker and hands
results to ``sink`` gives the local executor's table. ``EXECPLUG_LOG`` (or ``--shuffled-log``)
records each unit (component, resources, batches) as one JSON line.
"""

from __future__ import annotations

import json
import os

from harness import Executor, hookimpl


class ShuffledExecutor(Executor):
    name = "shuffled"
    description = "test executor: last batch first, alternating two replica names"
    cli_options = {"log": "JSON-lines file recording each work unit"}

    def start(self, options, log, modules):
        self.path = options.get("log") or os.environ.get("EXECPLUG_LOG")
        self.units = 0
        self.modules = list(modules)

    def execute(self, unit, sink, progress):
        worker = unit.open()
        batches = unit.batches(worker)
        progress.start()
        for i, batch in enumerate(reversed(batches)):
            sink([unit.items[j] for j in batch], unit.run(worker, batch))
            progress.update(len(batch), f"r{i % 2}")
        self.units += 1
        if self.path:
            with open(self.path, "a") as fh:
                record = {"component": unit.component, "plugin": unit.plugin, "kind": unit.kind}
                record.update(resources=unit.resources.as_dict(), batches=len(batches), items=unit.size)
                fh.write(json.dumps(record) + "\n")

    def run_facts(self):
        return {"units": self.units, "plugins": self.modules}


@hookimpl
def harness_register_executors(register):
    register(ShuffledExecutor())
