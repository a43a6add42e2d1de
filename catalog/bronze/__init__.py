"""Bronze: raw Spotify answers, byte for byte, one folder per UTC day.

:mod:`~catalog.bronze.layout` (keys, manifest, the store interface), the two stores
(:mod:`~catalog.bronze.local`, :mod:`~catalog.bronze.s3`), :mod:`~catalog.bronze.open_store`
(a store from a URI) and :mod:`~catalog.bronze.payload` (the shapes of Spotify's answers).
Imports only :mod:`catalog` basics and boto3 (S3 store): the ingest Lambda ships this room.
"""
