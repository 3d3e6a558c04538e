"""The record in a browser: GraphiQL served from Coop's own files, and read-only pages."""
