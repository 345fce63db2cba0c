# Build and check targets. Each target says what it needs beyond Go.

.PHONY: tracker check-tracker

# tracker rebuilds the browser tracker into internal/tracker/dist (needs Node 20
# and npm; the built files are committed, so a Go build needs neither).
tracker:
	cd internal/tracker && npm ci && node build.mjs

# check-tracker type-checks the sources, rebuilds and fails when the committed
# dist/ differs from the build, or the build made files never committed:
# sources and built files must match.
check-tracker: tracker
	cd internal/tracker && npm run --silent typecheck
	git diff --exit-code -- internal/tracker/dist
	@untracked="$$(git ls-files --others --exclude-standard -- internal/tracker/dist)"; \
	if [ -n "$$untracked" ]; then echo "not committed: $$untracked"; exit 1; fi

.PHONY: ui check-ui

# ui rebuilds the dashboard's page scripts and style sheet into
# internal/web/ui/dist (needs Node 20 and npm; the built files are committed,
# so a Go build needs neither).
ui:
	cd internal/web/ui && npm ci && node build.mjs

# check-ui does for the dashboard files what check-tracker does for the
# tracker: type-check, rebuild, and fail when dist/ differs from what is
# committed or holds files never committed.
check-ui: ui
	cd internal/web/ui && npm run --silent typecheck
	git diff --exit-code -- internal/web/ui/dist
	@untracked="$$(git ls-files --others --exclude-standard -- internal/web/ui/dist)"; \
	if [ -n "$$untracked" ]; then echo "not committed: $$untracked"; exit 1; fi

.PHONY: test

# test vets the code and runs every test with the race detector. Browser tests
# need Debian's chromium; under CI=true a missing browser or service fails.
test:
	go vet ./...
	go test -race -count=1 -timeout 25m ./...
