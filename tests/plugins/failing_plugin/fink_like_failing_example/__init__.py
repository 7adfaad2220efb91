"""Deliberately broken science modules: the runner must isolate them."""
