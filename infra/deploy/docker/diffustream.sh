#!/bin/sh
# The diffustream command inside the image (installed as /usr/local/bin/diffustream, the image's
# entrypoint): the same JVM flags as the repository's ./diffustream launcher, without the build step.
#
# Environment:
#   DIFFUSTREAM_RECIPE     recipe file passed as --recipe (unless the arguments give one)
#   DIFFUSTREAM_HEAP       maximum Java heap, e.g. 2g (default: 40% of the container's memory;
#                          tensors live off-heap, in native memory)
#   DIFFUSTREAM_JAVA_OPTS  extra JVM options (e.g. -Djavax.net.ssl.trustStore=... for a private CA)
#   DIFFUSTREAM_METRICS_PORT  serve Prometheus metrics on this port (read by the CLI itself)
#   DIFFUSTREAM_HOME       where diffustream.jar and lib/ are (default /opt/diffustream)
#   DIFFUSTREAM_<SECTION>_<KEY>  any recipe key (read by the CLI itself)
#
# Replicas of one compose service differ only by their container, so for `actor` and `sandbox`
# (as the first argument, without --id) the instance id is <command>-<container hostname>: unique
# per replica and stable across restarts of that container. A `sandbox` also gets its own range of
# per-slot uids (sandbox.uidBase) from its address on the compose network, unless
# DIFFUSTREAM_SANDBOX_UIDBASE is set: containers share the host kernel's per-uid process counts
# (RLIMIT_NPROC), so two replicas must never run tests under the same uid.
set -eu

command="${1:-}"
case "$command" in
  actor|sandbox)
    if [ "${2:-}" != "run" ]; then
      has_id=no
      for arg in "$@"; do
        case "$arg" in --id|--id=*) has_id=yes ;; esac
      done
      if [ "$has_id" = no ]; then
        set -- "$@" --id "$command-$(hostname)"
      fi
    fi
    ;;
esac

if [ "$command" = sandbox ] && [ -z "${DIFFUSTREAM_SANDBOX_UIDBASE:-}" ]; then
  # first IPv4 address a.b.c.d -> uidBase 100000 + (c * 256 + d) * 256: disjoint ranges of 256
  # slots (sandbox.workers <= 256) for every address of a /16 network
  for address in $(hostname -i 2>/dev/null || true); do
    c="$(printf '%s' "$address" | cut -s -d. -f3)"
    d="$(printf '%s' "$address" | cut -s -d. -f4)"
    case "$c$d" in
      ''|*[!0-9]*) continue ;;
    esac
    DIFFUSTREAM_SANDBOX_UIDBASE=$((100000 + (c * 256 + d) * 256))
    export DIFFUSTREAM_SANDBOX_UIDBASE
    break
  done
fi

if [ -n "${DIFFUSTREAM_RECIPE:-}" ]; then
  has_recipe=no
  for arg in "$@"; do
    case "$arg" in --recipe|--recipe=*) has_recipe=yes ;; esac
  done
  if [ "$has_recipe" = no ]; then
    set -- --recipe "$DIFFUSTREAM_RECIPE" "$@"
  fi
fi

heap="-XX:MaxRAMPercentage=40"
if [ -n "${DIFFUSTREAM_HEAP:-}" ]; then
  heap="-Xmx$DIFFUSTREAM_HEAP"
fi

# -Dai.djl.offline=true: PyTorch natives come from DJL_CACHE_DIR (extracted at image build time).
# ParallelGC: throughput for training; the pauses do not matter to a batch pipeline.
# shellcheck disable=SC2086  # DIFFUSTREAM_JAVA_OPTS is a list of options
exec java \
  -Dai.djl.offline=true \
  "$heap" \
  -XX:+UseParallelGC \
  ${DIFFUSTREAM_JAVA_OPTS:-} \
  -cp "${DIFFUSTREAM_HOME:-/opt/diffustream}/diffustream.jar:${DIFFUSTREAM_HOME:-/opt/diffustream}/lib/*" \
  dev.diffustream.cli.Main "$@"
