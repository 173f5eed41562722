"""History import: the durable job queue, per-exchange paging, and the job runner."""
