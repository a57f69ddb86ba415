# One image for every diffustream service (feeder, actor, sandbox, streams, learner, pretrain, topic
# initialiser): its entrypoint is the `diffustream` command, the service is the first argument.
#
#   docker build -t diffustream .            (or let docker-compose.yml build it)
#   docker run --rm diffustream --help
#
# Plain Dockerfile syntax only (no BuildKit-only features), so docker-compose v1 and the classic
# builder can build it. The build stage downloads the Maven dependencies. A recipe is mounted or
# passed at run time (--recipe FILE or DIFFUSTREAM_RECIPE). See docs/deploy.md.

ARG BUILD_IMAGE=maven:3.9-eclipse-temurin-17
ARG RUNTIME_IMAGE=debian:bookworm-slim

# --- build: the CLI jar and its libraries, and the PyTorch natives extracted once ---------------
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY . .
# Only what the CLI needs: no tests (CI runs them), no format check.
RUN mvn -B -q -Dquick -Dmaven.test.skip=true -pl cli -am package \
    && test -f cli/target/diffustream.jar && test -d cli/target/lib
# DJL extracts the PyTorch native libraries (~450 MB) into DJL_CACHE_DIR on first use: do it now,
# so containers start without extracting (and without write access to the cache).
RUN mkdir -p /opt/djl-cache \
    && DJL_CACHE_DIR=/opt/djl-cache java -Dai.djl.offline=true -cp "cli/target/lib/*" \
         infra/deploy/docker/WarmUpNatives.java

# --- runtime: JRE 17, bubblewrap and python3 for the sandbox ---------------------------------------
FROM ${RUNTIME_IMAGE}
# The sandbox runs untrusted Python with bubblewrap and /usr/bin/python3 (Debian 12: 3.11, the
# interpreter the sandbox is tested with); python3-seccomp loads its syscall filter.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
         openjdk-17-jre-headless bubblewrap python3 python3-seccomp ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && test -x /usr/bin/python3 && command -v bwrap
# Services run as an unprivileged user, except the sandbox (root: it drops every test to a per-slot
# uid; see docker-compose.yml). The data directories are the mount points of the shared volumes: a
# new named volume takes their owner.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/diffustream diffustream \
    && mkdir -p /data/checkpoints /data/runs /data/pretrained /etc/diffustream \
    && chown -R diffustream:diffustream /data
COPY --from=build /src/cli/target/diffustream.jar /opt/diffustream/diffustream.jar
COPY --from=build /src/cli/target/lib/ /opt/diffustream/lib/
COPY --from=build --chown=10001:10001 /opt/djl-cache/ /opt/djl-cache/
COPY infra/deploy/docker/diffustream.sh /usr/local/bin/diffustream
RUN chmod 0755 /usr/local/bin/diffustream
ENV DJL_CACHE_DIR=/opt/djl-cache
# Prometheus metrics, when a service is started with --metrics-port 9404 / DIFFUSTREAM_METRICS_PORT.
EXPOSE 9404
USER diffustream
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/diffustream"]
CMD ["--help"]
