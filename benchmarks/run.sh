#!/usr/bin/env bash
# Runs the whole benchmark suite against a private redis-server (persistence off) and prints a table.
# Results also go to benchmarks/target/results.json.
# Usage: benchmarks/run.sh [--events N] [--only inmemory,raw,readpath,readcompact,costs,redis,partitioned,latency,scaling,memory,time,bullmq,dashboard,cluster]
#        [--cluster-pin false]   (the cluster rows pin the servers to CPU 0, the JVM to CPU 1, unless told not to)
#        [--cluster-rate 25000,50000] [--cluster-rate-seconds 8] [--cluster-control false]
#                                (the cluster rows also run both clusters paced at each rate, events published
#                                 while handled, and at the highest rate the one master beside two busy
#                                 neighbours on its CPU; --cluster-rate 0 for the unpaced rows alone)
#        --only cluster-idle: calls per master and in all, idle and at a light pace, on 1 and 3 masters with
#                                the default 16 partitions [--cluster-idle-seconds 10] [--cluster-idle-rate 1000]
#        [--configs 4x64x256,...] [--inmemory-configs 2x64x256,...]   (workers x concurrency x batch)
#        [--partitions 16] [--partitioned-config 2x256x512]           (partitioned rows)
#        --only partitioned-many-keys,partitioned-seed: the partitioned row beside its seed-format producers' row
#        (a plain XADD to the single stream, moved by the router); --only partitioned-seed-latency: the
#        partitioned latency row with its events written that way (not in a full run)
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
pids=("$dir/redis.pid")
cleanup() {
  local running=()
  for f in "${pids[@]}"; do
    local p; p=$(cat "$f" 2>/dev/null) || continue
    kill "$p" 2>/dev/null && running+=("$p")
  done
  # A server writes its log until it exits: rm -rf before then leaves the directory behind.
  for p in "${running[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done

# A cluster node's bus listens 10000 above its port: pick p <= 55535 with p and p + 10000 free.
cluster_port() {
  python3 -c '
import random, socket
while True:
    p = random.randint(20000, 55535)
    try:
        a = socket.socket(); a.bind(("127.0.0.1", p)); b = socket.socket(); b.bind(("127.0.0.1", p + 10000))
        a.close(); b.close(); print(p); break
    except OSError:
        pass'
}
cluster_node() {  # port: a cluster-enabled redis-server without persistence or replicas
  mkdir -p "$dir/$1"
  redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir/$1" --daemonize yes \
    --cluster-enabled yes --cluster-config-file nodes.conf --pidfile "$dir/$1/redis.pid" --logfile "$dir/$1/redis.log"
  pids+=("$dir/$1/redis.pid")
  for _ in $(seq 50); do redis-cli -p "$1" ping >/dev/null 2>&1 && break; sleep 0.1; done
}
await_cluster_ok() {
  for _ in $(seq 100); do redis-cli -p "$1" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && return 0; sleep 0.1; done
  echo "cluster on port $1 did not become ok" >&2; exit 1
}

# The cluster rows (--only cluster, or a full run) need a 1-master and a 3-master cluster.
cluster_args=()
only=""
prev=""
for a in "$@"; do [ "$prev" = "--only" ] && only="$a"; prev="$a"; done
if [ -z "$only" ] || [[ ",$only," == *",cluster,"* ]] || [[ ",$only," == *",cluster-idle,"* ]]; then
  c1=$(cluster_port); cluster_node "$c1"
  redis-cli -p "$c1" cluster addslotsrange 0 16383 >/dev/null
  await_cluster_ok "$c1"
  c3=()
  for _ in 1 2 3; do p=$(cluster_port); cluster_node "$p"; c3+=("$p"); done
  redis-cli --cluster create "127.0.0.1:${c3[0]}" "127.0.0.1:${c3[1]}" "127.0.0.1:${c3[2]}" \
    --cluster-replicas 0 --cluster-yes >/dev/null
  for p in "${c3[@]}"; do await_cluster_ok "$p"; done
  cluster_args=(--cluster1 "redis-cluster://127.0.0.1:$c1"
    --cluster3 "redis-cluster://127.0.0.1:${c3[0]},127.0.0.1:${c3[1]},127.0.0.1:${c3[2]}")
fi

java -Xms1g -Xmx1g -jar benchmarks/target/workflow-worker-benchmarks.jar --redis "redis://127.0.0.1:$port" \
  --node-dir benchmarks/node --out benchmarks/target/results.json "${cluster_args[@]}" "$@"
