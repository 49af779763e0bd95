"""The version of the complaint workflow's code, recorded on every run it starts (search attribute
`CodeVersion`). Raise it with every release that changes the workflow's path (a `workflow.patched` branch
added or a `deprecate_patch` made); docs/upgrading.md says how the versions drain.
"""

CODE_VERSION = "2026.12.1"  # the first release: no earlier history to replay, no patch
