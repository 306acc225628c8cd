"""The application layer: what every face (``cli/``, ``report/``, the coming web app) shares.

It turns library results into what a person or another program reads: strict JSON, safe CSV,
GeoJSON, parsed options. Faces call it; the library below never imports it.
"""
