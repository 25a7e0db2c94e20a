"""The pieces of `bench/robustness.py`: the sandbox under test as a subprocess, local peers
(media server, webhook receivers), a deterministic generator of hostile requests, and the
three measurements of issue 10 (hostile input, memory over time, webhook isolation and
throughput). Everything binds to 127.0.0.1 and is stopped by the benchmark."""
