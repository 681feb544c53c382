# The Prefect layer is the folder flows/, installed under the name reportwatch_flows. mypy checks
# it as `flows` (mypy src flows) and cannot see an installed package renamed by an editable
# install, so these stubs give the installed name the types of flows/ for its callers (the CLI).
from flows import telemetry_off as telemetry_off
