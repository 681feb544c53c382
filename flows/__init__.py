"""The Prefect layer: turns reportwatch's pipeline stages into tasks and flows.

The only code in the project that imports Prefect. Installed as `reportwatch_flows`.
"""
