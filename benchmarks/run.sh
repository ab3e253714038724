#!/usr/bin/env bash
# Runs the whole benchmark suite against a private redis-server (persistence off) and prints a table.
# Results also go to benchmarks/target/results.json.
# Usage: benchmarks/run.sh [--events N] [--only inmemory,raw,costs,redis,partitioned,latency,scaling,memory,bullmq]
#        [--configs 4x64x256,...] [--inmemory-configs 2x64x256,...]   (workers x concurrency x batch)
#        [--partitions 16] [--partitioned-config 2x256x512]           (partitioned rows)
set -euo pipefail
cd "$(dirname "$0")/.."

command -v redis-server >/dev/null || { echo "redis-server is required (apt-get install -y redis-server)"; exit 1; }
mvn -q -B -ntp -DskipTests package -pl benchmarks -am

if command -v node >/dev/null && [ ! -d benchmarks/node/node_modules/bullmq ]; then
  (cd benchmarks/node && npm install --no-audit --no-fund --loglevel=error)
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize yes \
  --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
trap 'kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

java -Xms1g -Xmx1g -jar benchmarks/target/workflow-worker-benchmarks.jar --redis "redis://127.0.0.1:$port" \
  --node-dir benchmarks/node --out benchmarks/target/results.json "$@"
