"""Bundled adapters. Each runs as its own process; the harness never imports them."""
