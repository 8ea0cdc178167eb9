"""Acknowledging alerts: Alertmanager ``silences``, the ``local_acks`` kept in the state
folder when there is no Alertmanager, and the ``factories`` that pick between them."""
