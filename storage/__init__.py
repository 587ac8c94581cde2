"""Persistence behind one interface (storage.base); SQLite and PostgreSQL backends."""
