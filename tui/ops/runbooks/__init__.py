"""Runbooks: the YAML ``schema`` and its ``model``, input ``placeholders``, the ``steps``
and the ``process``es they run, the ``catalog`` of shipped and operator runbooks, the
``runner`` that takes a runbook step by step through the executor, its ``report``, and the
container/traffic actions a step may call when built from the config (``config_ops``)."""
