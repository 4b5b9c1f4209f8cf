"""Keeping the lake healthy and lawful: compaction, VACUUM, retention and GDPR erasure.

The `eventlake_maintenance` and `eventlake_gdpr_erasure` DAGs run these through the thin
entry points in `jobs/maintenance/`. Every function here is idempotent: a rerun after a
success changes nothing, a rerun after a crash finishes the work.
"""
