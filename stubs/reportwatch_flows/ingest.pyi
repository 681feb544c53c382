from flows.ingest import run_flow as run_flow
