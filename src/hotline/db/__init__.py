"""The case store: PostgreSQL through SQLAlchemy 2 (async) on asyncpg."""
