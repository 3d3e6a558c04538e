"""The metadata all read tables belong to (migrations are checked against it)."""

from sqlalchemy import MetaData

read_metadata = MetaData()
