"""reportwatch: watch published inspection reports and tell people what changed.

The pipeline runs in stages, one module each: sources -> fetch -> extract -> normalize -> store ->
diff -> notify. `reportwatch.pipeline` runs them in order; nothing here imports Prefect.
"""

__version__ = "0.1.0"
