"""Shared plumbing: database, errors, paging, ids, time, metrics."""
