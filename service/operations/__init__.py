"""The operator and auditor verbs: each returns what it found or did, and reports progress
through a callback; the command line (`service.cli`) parses arguments and prints."""
