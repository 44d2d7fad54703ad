"""The Python reference implementation of both profiles, run as an adapter process."""
