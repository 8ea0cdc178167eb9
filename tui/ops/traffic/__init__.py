"""Traffic between pools: the router protocol and the set/rollback actions (``weights``),
the routers (``nginx``, ``sim``), nginx's upstream file (``upstream``), gated rollouts
(``rollout``), and the one place that picks a router from the config (``factory``)."""
