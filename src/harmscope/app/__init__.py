"""The application layer: what every face (``cli/``, ``report/``, the coming web app) shares.

- :mod:`harmscope.app.serialise`: strict JSON, readable injection-safe CSV (precision and
  units per column kind), GeoJSON of grid cells;
- :mod:`harmscope.app.sparse`: which grid cells an output lists (those with events);
- :mod:`harmscope.app.geoformats`: GeoPackage, GeoParquet and GeoTIFF layers (EPSG:27700);
- :mod:`harmscope.app.options`: ``--format``, months, the period check, the ``--area`` study area;
- :mod:`harmscope.app.lenses`: which lenses a face offers and which options belong to which;
- :mod:`harmscope.app.render`: a result as CSV, JSON, GeoJSON, GeoPackage or (Geo)Parquet.

Faces call it and only show what it returns or the one-line message it raises; the library
below never imports it.
"""
