//! Store: the SQLite database in the output folder that makes runs incremental and resumable.
