# entityhub — make help lists every target.

# Image the deploy and docker targets use.
IMG ?= controller:latest

# Where project-local tools are installed; their versions are pinned here.
LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_TOOLS_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
KUSTOMIZE_VERSION ?= v5.8.3
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
# kubectl for install/deploy: the one on PATH, else the one built with the test control plane.
KUBECTL ?= $(shell command -v kubectl 2>/dev/null || echo "$$(hack/setup-envtest.sh)/kubectl")

# Extra flags for go test, e.g. make test GOTEST_FLAGS='-run TestControllers -v'.
GOTEST_FLAGS ?=

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD and the manager's RBAC from the Go markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -l -w $$(git ls-files '*.go' | grep -v '^hack/tools/')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint; .golangci.yml says what it checks and why.
	$(GOLANGCI_LINT) config verify
	$(GOLANGCI_LINT) run ./...

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply the fixes it knows (formatting, imports, some findings).
	$(GOLANGCI_LINT) run --fix ./...

.PHONY: verify
verify: manifests generate fmt vet lint chart build-installer helm-lint ## Fail on lint findings, or when generated files, formatting, go.mod, the chart or dist/install.yaml are out of date.
	go mod tidy -diff
	@if [ -n "$$(git status --porcelain -- api config controllers cmd dist go.mod go.sum)" ]; then \
		echo "Generated or formatted files changed; commit the result of 'make manifests generate fmt chart build-installer':"; \
		git status --porcelain -- api config controllers cmd dist go.mod go.sum; git --no-pager diff --stat; exit 1; \
	fi

.PHONY: envtest
envtest: ## Build (first time on a machine) and print the test control plane directory.
	@hack/setup-envtest.sh

.PHONY: test
test: vet ## Run unit tests and envtest suites against a real kube-apiserver and etcd.
	@assets="$$(hack/setup-envtest.sh)"; \
	KUBEBUILDER_ASSETS="$$assets" go test -race -count=1 $(GOTEST_FLAGS) ./...

.PHONY: test-backstage
test-backstage: ## Run a real Backstage backend against the manager (needs Node 20+ and npm; npm ci is cached by lockfile).
	@assets="$$(hack/setup-envtest.sh)"; \
	ENTITYHUB_BACKSTAGE=1 KUBEBUILDER_ASSETS="$$assets" go test -count=1 -timeout 20m ./test/backstage -v -ginkgo.v $(GOTEST_FLAGS)

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (default 30s).
	@for pkg in $$(go list ./...); do \
		for target in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$target"; \
			go test -run '^$$' -fuzz "^$$target$$" -fuzztime $${FUZZTIME:-30s} $$pkg; \
		done; \
	done

.PHONY: bench
bench: build ## Measure freshness, writes, memory and cold start on a local control plane (BENCH_FLAGS='-scale large').
	@assets="$$(hack/setup-envtest.sh)"; \
	KUBEBUILDER_ASSETS="$$assets" go run ./test/bench --manager $(LOCALBIN)/entityhub $(BENCH_FLAGS)

.PHONY: bench-cost
bench-cost: ## Measure the unit costs docs/performance.md scales from: API server CPU per write, cache bytes per object, listing rate.
	@assets="$$(hack/setup-envtest.sh)"; \
	KUBEBUILDER_ASSETS="$$assets" go run ./test/bench -cost $(BENCH_FLAGS)

##@ Build

.PHONY: build
build: ## Build the manager binary into bin/entityhub.
	go build -trimpath -o $(LOCALBIN)/entityhub ./cmd

.PHONY: run
run: ## Run the manager against the cluster of the current kubeconfig.
	go run ./cmd --metrics-bind-address=:8080 --metrics-secure=false

.PHONY: demo
demo: build ## Run the manager on an embedded local control plane with sample entities.
	@assets="$$(hack/setup-envtest.sh)"; \
	KUBEBUILDER_ASSETS="$$assets" go run ./hack/demo --manager $(LOCALBIN)/entityhub $(DEMO_FLAGS)

.PHONY: docker-build
docker-build: ## Build the container image IMG (needs a Docker engine).
	docker build -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the container image IMG.
	docker push $(IMG)

##@ Deployment

.PHONY: chart
chart: ## Copy the CRD, the alerts and the dashboard into the Helm chart (dist/chart) and write the values table of its README.
	cp config/crd/bases/*.yaml dist/chart/crds/
	mkdir -p dist/chart/files && cp config/prometheus/entityhub-rule-groups.yaml dist/chart/files/prometheus-rules.yaml
	cp config/grafana/entityhub.json dist/chart/files/grafana-dashboard.json
	go run ./hack/chartdoc

.PHONY: helm-lint
helm-lint: ## Lint the Helm chart as helm lint --strict does, at default and other values (Helm's Go SDK, pinned in go.mod).
	go test -count=1 -run '^TestLint$$' ./test/helm/

.PHONY: build-installer
build-installer: ## Write dist/install.yaml, config/default in one file for kubectl apply -f, with image IMG.
	go run ./hack/installer -image $(IMG)

.PHONY: install
install: ## Install the CRD into the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -k config/crd

.PHONY: uninstall
uninstall: ## Remove the CRD, and with it every CatalogEntity, from the cluster.
	$(KUBECTL) delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: kustomize ## Deploy the manager with image IMG to the cluster of the current kubeconfig.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize ## Remove the manager, its RBAC and the CRD from the cluster.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found -f -

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Install controller-gen into bin/.
$(CONTROLLER_GEN): | $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Install kustomize into bin/.
$(KUSTOMIZE): | $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Install golangci-lint into bin/ (built from source, so it knows the local Go).
$(GOLANGCI_LINT): | $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

# go-install-tool installs package $(2) at version $(3) as $(1): the version is in the
# file name, so changing a pinned version above installs it anew.
define go-install-tool
@set -e; dir=$$(mktemp -d); \
echo "Installing $(2)@$(3)"; \
GOBIN=$$dir go install $(2)@$(3); \
mv "$$dir/$$(basename $(2))" $(1); rm -rf "$$dir"
endef
