"""Read minutes files into Documents."""
