"""Channels: one module or package per way of delivering a message."""
