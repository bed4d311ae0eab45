# make test: everything CI runs. Installs what the tests need when it is missing.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2

.PHONY: test deps fmt-check vet staticcheck unit fuzz-smoke fuzz demo soak

test: deps fmt-check vet staticcheck unit fuzz-smoke

# Debian packages the tests need; a fresh machine gets them installed here.
DEBIAN_PACKAGES := redis-server chromium
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@# node and npm run the gateway e2e tests' TypeScript MCP server. Checked by
	@# command, not package: NodeSource's nodejs brings its own npm.
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		echo "installing: nodejs npm"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm; \
	fi

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# The Redis, browser and node tests skip when redis-server, chromium or node
# is missing, except here: make test installs them, so a skip would hide a
# broken setup.
unit:
	OAUTHPROXY_REQUIRE_REDIS=1 OAUTHPROXY_REQUIRE_BROWSER=1 OAUTHPROXY_REQUIRE_NODE=1 $(GO) test -race -count=1 -timeout 20m ./...

demo:
	$(GO) run ./examples/demo

# Every fuzz target, briefly (CI) or for FUZZTIME each (make fuzz FUZZTIME=10m).
FUZZ_TARGETS := \
	.:FuzzRegistration .:FuzzParseHop .:FuzzTokenRequest .:FuzzVerifyAccessToken .:FuzzClaimsDecode \
	.:FuzzRecordCodec \
	./crypto:FuzzOpen ./internal/redirecturi:FuzzValidate ./internal/httpx:FuzzParseQuery
FUZZTIME ?= 5s
fuzz-smoke fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		out=$$($(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); rc=$$?; echo "$$out"; \
		if [ $$rc -ne 0 ] && echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input'; then \
			echo "fuzz $$pkg $$name: the fuzzer's shutdown timed out (a Go toolchain flake on a loaded machine, no failing input): once more"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		elif [ $$rc -ne 0 ]; then exit 1; fi; \
	done

# Benchmarks (docs/performance.md): every hot path beside its floor, on one
# CPU, BENCHCOUNT runs each for benchstat (make bench > new.txt; benchstat
# old.txt new.txt). cpu-ns/op is CPU time, steadier than ns/op on a shared
# machine. BENCH picks benchmarks by regexp.
BENCH ?= .
BENCHCOUNT ?= 6
BENCHTIME ?= 1s
.PHONY: bench load abuse
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) -cpu 1 -timeout 60m . ./storage

# The load tool: a proxy in a child process with an instant upstream over
# loopback HTTP; complete flows beside their floor (the same round trips to
# bare net/http handlers, ratio printed), a token burst and refresh and bearer
# storms, bounded in count and time. LOADFLAGS passes flags (go run
# ./cmd/oauthproxy-load -h), e.g. LOADFLAGS="-cpuprofile cpu.out -memprofile mem.out".
LOADFLAGS ?=
load:
	$(GO) run ./cmd/oauthproxy-load $(LOADFLAGS)

# The hostile-load run (issue 11): a proxy in process with its default Config
# and the memory store; 100,000 max-size hostile requests from 127.0.0.1
# against every anonymous endpoint while signed-in users keep refreshing,
# calling a protected endpoint and redeeming codes, and a legitimate user
# signs in from 127.0.0.2. Prints heap, RSS, live records, statuses by kind
# and issue 11's figures; exits 1 when one is missed. make test runs a small
# one (internal/abuse). ABUSEFLAGS passes flags (go run ./cmd/oauthproxy-abuse -h),
# e.g. ABUSEFLAGS="-kinds authorize-state -n 300 -figure-mib 16" for the
# first repro of the issue, "-kinds register-max -n 3000 -c 8 -figure-mib 16"
# for the second.
ABUSEFLAGS ?=
# The second run turns rate limiting on and serves with MaxHeaderBytes as
# the README advises; its attacker is held to 100 requests a second because it
# runs in the proxy's process, on the same two cores: unthrottled, its own
# CPU, not the proxy's work, is what slows the legitimate flows (docs/hostile-load.md).
ABUSE_RL_FLAGS ?= -ratelimit -max-header-bytes 65536 -rate 100 -n 20000
abuse:
	$(GO) run ./cmd/oauthproxy-abuse $(ABUSEFLAGS)
	$(GO) run ./cmd/oauthproxy-abuse $(ABUSE_RL_FLAGS) $(ABUSEFLAGS)

# The full soak (soak_test.go): 10,000 complete flows at concurrency 64 under
# the race detector, mixed with bad requests; make test runs a small one.
# SOAK=FLOWSxCONCURRENCY picks another size (make soak SOAK=2000x32).
SOAK ?= full
soak:
	OAUTHPROXY_SOAK=$(SOAK) $(GO) test -race -count=1 -run '^TestSoak$$' -timeout 30m -v .

# Mutation testing of the security code (issue 15, docs/mutation.md) with
# gremlins: about half an hour on two cores, so not part of make test.
# MUTATE_PKGS picks package directories (default: all of them, root last).
MUTATE_PKGS ?=
MUTATE_REPORT ?= docs/mutation-report.md
.PHONY: mutate
mutate:
	scripts/mutate.sh $(MUTATE_PKGS) > $(MUTATE_REPORT).tmp && mv $(MUTATE_REPORT).tmp $(MUTATE_REPORT)
	@cat $(MUTATE_REPORT)
