# syntax=docker/dockerfile:1
FROM golang:1.24-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/helpdeskd ./cmd/helpdeskd

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /nonexistent --shell /usr/sbin/nologin helpdesk
COPY --from=build /out/helpdeskd /usr/local/bin/helpdeskd
USER helpdesk
ENTRYPOINT ["helpdeskd"]
CMD ["serve"]
