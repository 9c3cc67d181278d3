"""Records the machine in the JSON that --benchmark-json writes, for bench/report.py."""
import _bench


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["gelu_fast_bench"] = _bench.machine()
