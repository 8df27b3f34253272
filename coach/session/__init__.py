"""A session: the pure policy (state, events, effects; transition() decides), the
runner that performs its effects against ports, the triage contract the runner
offers (DialogIO), the JSONL event log and the terminal view.
"""

__all__ = ["commands", "conversation", "dialog", "events", "policy", "ports", "runner",
           "state", "view", "waiting"]
