"""What the two chatlabels pytest plugins cost an unrelated pytest start.

Installing chatlabels registers both plugins in every pytest run of the environment. This
imports them into fresh interpreters that have pytest and the other installed plugins loaded
already (as pytest has when it loads entry points) and prints the median CPU and wall time
of that import. CPU time is reported because wall time grows with the machine's other load.

    python bench/plugin_cost.py [PYTHON] [RUNS]
"""

import statistics
import subprocess
import sys

code = (
    "import time, pytest, _pytest.config, importlib.metadata, hypothesis, xdist.plugin\n"
    "t = time.process_time(); w = time.perf_counter()\n"
    "import chatlabels.mock.testing.plugin, chatlabels.kit.suite.plugin\n"
    "print(time.process_time() - t, time.perf_counter() - w)\n"
)
python = sys.argv[1] if len(sys.argv) > 1 else sys.executable
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
cpu, wall = [], []
for _ in range(runs):
    run = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    seconds = [float(x) for x in run.stdout.split()]
    cpu.append(seconds[0] * 1000)
    wall.append(seconds[1] * 1000)
print(
    f"plugins' import into a pytest process: CPU median {statistics.median(cpu):.1f} ms "
    f"(min {min(cpu):.1f}), wall median {statistics.median(wall):.1f} ms (min {min(wall):.1f})"
)
