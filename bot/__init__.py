"""Vestnik: ERP events in, notifications out (the application core)."""
