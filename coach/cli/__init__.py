"""The `coach` command: argument parsing (parser), one module per command group
(routines, speech, listen, triage), the composition root that picks adapters and
builds a Runner (app, adapters, inputs, safety), and run settings. The top layer.
"""

from coach.cli.parser import main

__all__ = ["main"]
