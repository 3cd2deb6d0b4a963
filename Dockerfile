# syntax=docker/dockerfile:1
FROM golang:1.24-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# `helpdeskd version` prints these (the build context has no .git):
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) --build-arg REVISION=$(git rev-parse HEAD) .
ARG VERSION=dev
ARG REVISION=
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" -o /out/helpdeskd ./cmd/helpdeskd

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 helpdesk \
    && useradd --system --uid 10001 --gid 10001 --home /nonexistent --shell /usr/sbin/nologin helpdesk
COPY --from=build /out/helpdeskd /usr/local/bin/helpdeskd
# Never root: a numeric UID, so that runAsNonRoot (Kubernetes) can check it.
# Nothing is written inside the container; state is in PostgreSQL.
USER 10001:10001
# SIGTERM drains the mail in hand for HELPDESK_SHUTDOWN_TIMEOUT (10s): give
# the container more than that before SIGKILL (compose: stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["helpdeskd"]
CMD ["serve"]
