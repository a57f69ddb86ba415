#!/usr/bin/env bash
# Creates a run's topics on a Kafka cluster with Kafka's own kafka-topics.sh, from topics.json beside
# this script: the same names, partitions and configs `diffustream topics create` applies (a test
# keeps topics.json equal to the code). For clusters where topics are created by an operator with
# admin rights rather than by the services.
#
#   infra/deploy/create-topics.sh --bootstrap-server HOST:PORT [--command-config client.properties]
#       [--prefix PREFIX] [--partitions N] [--replication-factor R] [--dry-run]
#
# --partitions is kafka.partitions of the recipe (default 4), --replication-factor its
# kafka.replicationFactor (default 3 here: a real cluster). --command-config takes the SASL/TLS
# client properties (security.protocol, sasl.*, ssl.*: see security/recipe-sasl-ssl.yaml).
# --dry-run prints the commands instead of running them. Needs python3 (to read the JSON) and
# kafka-topics.sh on PATH, or KAFKA_TOPICS=/path/to/kafka-topics.sh. Existing topics are kept.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bootstrap=""
command_config=""
prefix=""
partitions=4
replication=3
dry_run=0

usage() {
  sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --bootstrap-server) bootstrap="${2:?--bootstrap-server needs HOST:PORT}"; shift 2 ;;
    --command-config) command_config="${2:?--command-config needs a file}"; shift 2 ;;
    --prefix) prefix="${2?--prefix needs a value}"; shift 2 ;;
    --partitions) partitions="${2:?--partitions needs a number}"; shift 2 ;;
    --replication-factor) replication="${2:?--replication-factor needs a number}"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage ;;
    *) echo "create-topics.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
[[ -n "$bootstrap" ]] || { echo "create-topics.sh: --bootstrap-server is required" >&2; usage; }
[[ "$partitions" =~ ^[1-9][0-9]*$ ]] || { echo "create-topics.sh: --partitions must be >= 1, got '$partitions'" >&2; exit 2; }
[[ "$replication" =~ ^[1-9][0-9]*$ ]] || { echo "create-topics.sh: --replication-factor must be >= 1, got '$replication'" >&2; exit 2; }

# One line per topic: name, partition count, then key=value configs (no spaces in any of them).
topics="$("${PYTHON:-python3}" - "$here/topics.json" "$partitions" <<'EOF'
import json, sys
spec, partitions = json.load(open(sys.argv[1])), sys.argv[2]
for t in spec["topics"]:
    n = partitions if t["partitions"] == "kafka.partitions" else str(t["partitions"])
    print(" ".join([t["name"], n] + ["%s=%s" % kv for kv in sorted(t["configs"].items())]))
EOF
)"

kafka_topics="${KAFKA_TOPICS:-kafka-topics.sh}"
while read -r name count configs; do
  cmd=("$kafka_topics" --bootstrap-server "$bootstrap")
  [[ -z "$command_config" ]] || cmd+=(--command-config "$command_config")
  cmd+=(--create --if-not-exists --topic "$prefix$name" --partitions "$count" --replication-factor "$replication")
  for c in $configs; do
    cmd+=(--config "$c")
  done
  if [[ "$dry_run" == 1 ]]; then
    printf '%q ' "${cmd[@]}"
    echo
  else
    "${cmd[@]}"
  fi
done <<< "$topics"
