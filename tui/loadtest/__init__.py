"""Load tests: the handbook's scenarios (data), driven by Locust, judged by their criteria.

The engine side: scenarios (`tui.loadtest.scenario`), the load shape over time
(`tui.loadtest.shape`), the Locust process that sends the requests
(`tui.loadtest.locustfile`, run in a child process only), a run that follows it
(`tui.loadtest.run`), the report with its criteria (`tui.loadtest.report`) and the
server-side figures the backends counted over the same interval (`tui.loadtest.server`).
"""
