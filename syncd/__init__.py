"""syncd keeps exactly one tracker issue per action item in Markdown meeting minutes."""

__version__ = "0.1.0"
