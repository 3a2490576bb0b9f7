# syntax=docker/dockerfile:1
#
# yizhan: one static binary (the SFU, signaling, the mediation API, the recorder and the
# embedded web app) on a small Alpine base that brings sqlite3 for online backups.
#
#   docker build -t yizhan --build-arg VERSION=$(git describe --always) .
#
# See docker-compose.yml and docs/OPERATORS.md.

# --- build ----------------------------------------------------------------------------
# The web app is committed pre-built (web/dist), so the Go toolchain alone builds
# everything; modernc.org/sqlite is pure Go, so no cgo.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/yizhan ./cmd/yizhan

# The TrueType CJK font sealed PDF documents are set in (--pdf-font's default path):
# Debian's fonts-droid-fallback (Apache 2.0), copied into the run image below.
FROM debian:bookworm-slim AS font
RUN apt-get update && apt-get install -y --no-install-recommends fonts-droid-fallback && rm -rf /var/lib/apt/lists/*

# --- run ------------------------------------------------------------------------------
FROM alpine:3.22
# ca-certificates: external TURN/STUN over TLS; tzdata: TZ for operators' logs;
# sqlite: `sqlite3 /data/... ".backup ..."` for online backups (docs/OPERATORS.md);
# ffmpeg: lectures as HLS (H.264/AAC) and their archive.
RUN apk add --no-cache ca-certificates tzdata sqlite ffmpeg \
 && addgroup -S -g 10001 yizhan \
 && adduser -S -D -H -u 10001 -G yizhan -h /data yizhan \
 && mkdir -p /data \
 && chown yizhan:yizhan /data \
 && chmod 0750 /data
COPY --from=build /out/yizhan /usr/local/bin/yizhan
COPY --from=font /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf

# A fresh named volume takes /data's owner (10001) from the image.
VOLUME /data
WORKDIR /data
USER 10001:10001

# Listen on every interface of the container; everything else comes from the
# environment (YIZHAN_*, see `yizhan serve --help`) or flags after "serve".
ENV YIZHAN_HTTP=0.0.0.0:7880 \
    YIZHAN_DATA=/data \
    YIZHAN_LOG_JSON=1

# 7880/tcp HTTP(S) and WSS; 7881/tcp ICE over TCP; 7882/udp ICE over UDP;
# 3478/udp TURN over UDP; 5349/tcp TURN over TLS.
EXPOSE 7880 7881 7882/udp 3478/udp 5349

# /healthz answers 200 once serving; try plain HTTP, then HTTPS (certificate not
# checked: this is the container talking to itself).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD wget -q -O /dev/null http://127.0.0.1:7880/healthz \
   || wget -q --no-check-certificate -O /dev/null https://127.0.0.1:7880/healthz \
   || exit 1

ENTRYPOINT ["/usr/local/bin/yizhan"]
CMD ["serve"]
