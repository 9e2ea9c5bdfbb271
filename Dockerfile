# syntax=docker/dockerfile:1
# The builder stage is named `build`: CI (see docs/container-image.md) can
# replace it with host-built files via `podman build --build-context build=DIR`.
# A pinned digest would be better for reproducibility; it is left as a tag here
# because this project's machines cannot pull images to look the digest up.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/workers-deploy ./cmd/workers-deploy \
 && mkdir -p /out/etc/ssl/certs && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/

FROM scratch
# Docker actions must run as the default user (root): a non-root user cannot
# write to the mounted GITHUB_WORKSPACE and file-command files. No USER, no WORKDIR
# (the runner sets --workdir /github/workspace).
COPY --from=build /out/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/workers-deploy /workers-deploy
ENTRYPOINT ["/workers-deploy"]
