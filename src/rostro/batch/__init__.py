"""Batch detection over many photos: the unit of work (records), the single-process loop
(local) and the Ray backend that shards the files over a cluster (ray_backend, shards)."""
