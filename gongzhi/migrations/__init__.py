"""Schema migrations (alembic). `gongzhi.db.init_db` brings a database to the head revision;
`python -m gongzhi make-migration "what changed"` writes a new revision from the models."""
