# Build the entityhub binary on the build platform and cross-compile for the target,
# so that multi-platform images build without emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH

WORKDIR /workspace
# Download modules first, in their own layer, so that a source change does not
# download them again.
COPY go.mod go.sum ./
RUN go mod download

COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/

RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o entityhub ./cmd

# distroless/static holds no shell and no package manager, only CA certificates,
# tzdata and a nonroot user.
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/entityhub /entityhub
USER 65532:65532

ENTRYPOINT ["/entityhub"]
