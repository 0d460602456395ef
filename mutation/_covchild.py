"""Coverage in a Python subprocess started by a test during the covered clean run (``sitecustomize``).

The runner copies this file as ``sitecustomize.py`` into a directory that the plugin
(``mutation/_covplugin.py``) puts on the ``PYTHONPATH`` of the Python subprocesses a test starts,
with ``FIELDSTREAM_MUTATION_CHILD_OUT`` (a file prefix, one per start) and
``FIELDSTREAM_MUTATION_SOURCES``. Python imports ``sitecustomize`` at start-up, so the child measures
the scope's source files and writes the lines it ran to ``PREFIX.PID.json`` when it exits
(grandchildren inherit the variables and write their own file). A child that writes nothing (it
replaced its environment, or left with ``os._exit``) makes the plugin fall back to running its test
for every mutant. Without the variables this module does nothing.
"""

from __future__ import annotations

import os


def _start() -> None:
    prefix = os.environ.get("FIELDSTREAM_MUTATION_CHILD_OUT")
    if not prefix:
        return
    import atexit
    import json

    try:
        import coverage
    except ImportError:  # another interpreter: nothing is reported, the test then runs for every mutant
        return
    sources = [s for s in os.environ.get("FIELDSTREAM_MUTATION_SOURCES", "").split(os.pathsep) if s]
    cov = coverage.Coverage(data_file=None, include=sources, config_file=False, concurrency=["thread"])
    cov.start()

    def dump() -> None:
        cov.stop()
        data = cov.get_data()
        lines = {path: sorted(data.lines(path) or ()) for path in data.measured_files()}
        with open(f"{prefix}.{os.getpid()}.json", "w", encoding="utf-8") as f:
            json.dump(lines, f)

    atexit.register(dump)


_start()
