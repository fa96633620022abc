"""Channels: departments, their codes and kits, touches, attribution moves, funnels."""
