# syntax=docker/dockerfile:1
# One image for every part of Alongside: the three services, the console and
# the `alongside` CLI. The command picks which (the default is the matcher):
#   docker run IMAGE alongside-matcher | alongside-scheduler | alongside-notifier
#   docker run IMAGE alongside-console
#   docker run IMAGE alongside streams provision --replicas 3
# (`make run` and `make run-cluster` are for a clone: their test servers are not in the image.)
#
# The base is pinned by digest. python:3.11.10-slim-bookworm is the Python the
# lock is tested on (3.11). The digest was NOT read from the registry here (no
# registry access when this was written): it is the one several public
# Dockerfiles pin for this tag, among them a Renovate-kept digests file.
# Check it before the first release, and let a bot keep it fresh:
#   docker buildx imagetools inspect python:3.11.10-slim-bookworm
ARG PYTHON_IMAGE=python:3.11.10-slim-bookworm@sha256:5148c0e4bbb64271bca1d3322360ebf4bfb7564507ae32dd639322e4952a6b16

# --- build: the generated API, then the project and its runtime dependencies ---
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements.lock ./
# protoc (grpcio-tools) stays in this stage: it generates alongside.api only.
RUN python -m venv /opt/protoc \
 && /opt/protoc/bin/pip install -c requirements.lock grpcio-tools
COPY pyproject.toml setup.py README.md ./
COPY protos/ protos/
COPY scripts/gen_protos.py scripts/
COPY kit/ kit/
COPY services/ services/
COPY cli/ cli/
RUN /opt/protoc/bin/python scripts/gen_protos.py
# The runtime: the project (not editable) with exactly the pinned versions of
# its run-time dependencies; development tools (pytest, mypy, ruff, buf,
# grpcio-tools, the test servers) are not installed.
RUN python -m venv /opt/alongside \
 && /opt/alongside/bin/pip install -c requirements.lock . \
 && /opt/alongside/bin/python -m compileall -q /opt/alongside/lib

# --- final: the runtime only, as a non-root user ---
FROM ${PYTHON_IMAGE} AS final
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="alongside" \
      org.opencontainers.image.description="Alongside: matcher, scheduler and notifier gRPC services, the web console and the alongside CLI" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.10-slim-bookworm"
# A fixed uid/gid, so Kubernetes' runAsNonRoot can check it without a name.
RUN groupadd --system --gid 10001 alongside \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin alongside
COPY --from=build /opt/alongside /opt/alongside
# Read-only root filesystem friendly: nothing is written outside /tmp (a
# tmpfs or emptyDir there); no .pyc is written at run time.
ENV PATH=/opt/alongside/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TMPDIR=/tmp
USER 10001:10001
WORKDIR /tmp
EXPOSE 50051 50052 50053 8080
# gRPC health of LISTEN_ADDR (a service) or the console's CONSOLE_ADDR, on loopback.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-m", "alongside.kit.probe"]
CMD ["alongside-matcher"]
