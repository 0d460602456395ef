"""Scopes of ``python -m mutation``: which source files are mutated and which tests must kill them.

Everything a user may want to change lives in :data:`SCOPES`, at the top of this file. Paths are
globs relative to the repository root, so a module that is renamed or split (``_tokenizer.py`` ->
``_parser.py`` + ``_input.py``) is picked up without an edit here; adding a module to a scope is
one glob. A test glob that matches nothing is ignored (so a renamed test file only shrinks the
selection), but a scope whose tests all vanished is an error: nothing could kill its mutants.
"""

from __future__ import annotations

# scope -> source globs (mutated) and test globs (the per-scope selection run against each mutant).
# Keep the test selections fast: every surviving mutant pays for one full run of its selection. Tests
# run in the order listed (``-x`` stops at the first failure): put the fast, sharp files first.
# Optional "pytest_args" (e.g. ``["-k", "not slow_thing"]``) leave out tests too slow to pay per mutant.
SCOPES: dict[str, dict[str, list[str]]] = {
    "core": {
        # the parser (_parser.py), input decoding (_input.py), snapshots (_partial.py), events, paths,
        # errors, the front ends (iterators, files, async) and the lenient front end
        "sources": ["src/fieldstream/_parser.py", "src/fieldstream/_input.py", "src/fieldstream/_partial.py",
                    "src/fieldstream/_events.py", "src/fieldstream/_path.py", "src/fieldstream/_errors.py",
                    "src/fieldstream/_frontends.py", "src/fieldstream/_lenient.py",
                    "src/fieldstream/_tokenizer.py"],  # the pre-split name, if a checkout still has it
        "exclude": [],
        # ``tests/**/`` matches tests/ itself and any subdirectory (tests/core/ ...)
        "tests": [
            "tests/**/test_strength_core.py",
            "tests/**/test_basics.py",
            "tests/**/test_core_errors.py",
            "tests/**/test_core_*.py",
            "tests/**/test_lenient.py",
            "tests/**/test_hostile.py",
        ],
        # the bench corpus (MB-sized documents, ijson's pure-Python backend) costs more than the rest
        "pytest_args": ["-k", "not bench_corpus"],
    },
    "schema": {
        "sources": ["src/fieldstream/schema/*.py", "src/fieldstream/schema.py",
                    "src/fieldstream/_schema*.py"],
        "exclude": [],
        # the schema tests first, then every other test file of tests/schema (JSON Patch and lenient
        # streams over SchemaStream), then the agent tests that drive schema partials and policies
        "tests": ["tests/**/test_strength_schema.py", "tests/**/test_strength_stream.py",
                  "tests/**/test_strength_tree.py", "tests/**/test_schema_*.py", "tests/schema/test_*.py",
                  "tests/agents/test_agents_policy.py", "tests/agents/test_stream_handover.py"],
    },
    "agents": {
        "sources": ["src/fieldstream/agents/*.py", "src/fieldstream/agents/models/*.py"],
        # SSE has its own scope; the providers (models/) are tested against recorded streams served on
        # 127.0.0.1 (test_provider_recordings.py, test_providers_replay.py, test_openai_chat_provider.py)
        "exclude": ["src/fieldstream/agents/sse.py", "src/fieldstream/agents/_sse.py",
                    "src/fieldstream/agents/_safe.py", "src/fieldstream/agents/__init__.py"],
        # every agents test file (with coverage selection a mutant only pays for the tests that run its
        # lines); the strength tests first, then the rest in name order, then the HTTP layer of runs
        "tests": ["tests/**/test_strength_agents.py", "tests/agents/test_*.py",
                  "tests/cli/test_runs_http.py"],
    },
    "sse": {
        "sources": ["src/fieldstream/agents/_sse.py", "src/fieldstream/agents/_safe.py",
                    "src/fieldstream/agents/sse.py"],
        "exclude": [],
        "tests": ["tests/**/test_strength_agents.py", "tests/**/test_agents_sse.py",
                  "tests/**/test_sse_limits.py", "tests/**/test_runs.py",
                  "tests/**/test_limits.py",  # the public messages of the run's limit errors
                  "tests/cli/test_runs_http.py", "tests/cli/test_web.py"],
    },
    "patch": {
        "sources": ["src/fieldstream/_patch.py", "src/fieldstream/patch.py"],
        "exclude": [],
        "tests": ["tests/**/test_strength_patch.py", "tests/**/test_patch.py"],
    },
}

# Hypothesis profile of every test run: derandomized, so a mutant's verdict does not depend on luck.
HYPOTHESIS_PROFILE = "ci"
# Per-mutant timeout: this factor times the clean run of the scope's selection, plus a floor (seconds).
TIMEOUT_FACTOR = 3.0
TIMEOUT_FLOOR = 10.0
# What a worker copy of the repository contains (relative to the root); everything else is left out.
COPY = ["src", "tests", "fuzz", "docs", "examples", "bench", "README.md", "pyproject.toml"]
COPY_IGNORE = [".venv*", "__pycache__", "*.pyc", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache",
               ".hypothesis", "build", "dist", "*.egg-info"]
