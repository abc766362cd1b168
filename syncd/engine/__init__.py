"""Compute a sync plan from documents and tracker state, then apply it.

The engine imports no CLI, YAML or HTTP code.
"""
