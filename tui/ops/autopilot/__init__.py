"""Remediation rules (the autopilot): the handbook's rules as data, matched against
each snapshot, proposed to the operator or — with ``autopilot: on`` — acted on alone,
always through the executor, inside each rule's cooldown and hourly cap.

`rules` reads the rules, `config` the ``autopilot:`` section, `engine` decides what
to propose (pure: snapshot and clock in, proposals out), `actions` turns a proposal
into an executor action (restart, scale-out, notify), `notify` posts webhooks, and
`pilot` ties them together for the dashboard and the command line.
"""
