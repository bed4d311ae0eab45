#!/bin/sh
# make mutate: mutation testing of the security-critical code (issue 15) with
# github.com/go-gremlins/gremlins. Gremlins mutates the covered conditionals,
# arithmetic and increments of one package at a time and runs that package's
# tests against each mutant; a mutant the tests do not notice "lived".
#
# Settings shared by every package are in .gremlins.yaml (one worker: the run
# is meant to leave a core free; see docs/mutation.md for the timings). Per
# package, this script chooses the tests (GOFLAGS=-run=..., which gremlins'
# go test calls inherit) and, for the root package, the files to mutate.
#
# Usage: scripts/mutate.sh [package dir ...]   (default: all of them)
# Writes one gremlins JSON result per package to $MUTATE_OUT and the report
# (docs/mutation.md format) to stdout.
set -eu

GREMLINS=${GREMLINS:-"go run github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0"}
OUT=${MUTATE_OUT:-${TMPDIR:-/tmp}/oauthproxy-mutate}
EQUIVALENTS=docs/mutation-equivalent.md
cd "$(dirname "$0")/.."
mkdir -p "$OUT"

# The root package: only the files of the authorization, consent, callback,
# token, refresh, revocation and bearer paths and the JWT code; only the tests
# that exercise them (the security tests, the method tests, the flow, consent
# and JWT tests), run once each.
ROOT_FILES="authorize.go consent.go consent_remember.go consent_scopes.go callback.go token.go refresh.go revoke.go bearer.go jwt.go jwt_claims.go"
ROOT_TESTS='TestSecurity|TestMethods|TestConsent|TestJWT|TestFlow|TestGrantedScopes|TestLimitToRegisteredScope|TestConsentRememberable|FuzzVerifyAccessToken|FuzzTokenRequest'

run() { # run <dir> <go test -run regexp or ""> [gremlins flags...]
	dir=$1 tests=$2
	shift 2
	name=$(echo "$dir" | tr '/.' '__')
	flags="-count=1"
	[ -n "$tests" ] && flags="$flags -run=$tests"
	echo "gremlins: $dir (GOFLAGS=$flags $*)" >&2
	GOFLAGS="$flags" $GREMLINS unleash --silent --output "$OUT/$name.json" "$@" "./$dir" >&2 || true
	[ -s "$OUT/$name.json" ] || { echo "gremlins produced no result for $dir" >&2; exit 1; }
	printf '%s\t%s\t%s\n' "$dir" "GOFLAGS='$flags' gremlins unleash $* ./$dir" "$OUT/$name.json" >>"$OUT/runs.tsv"
}

: >"$OUT/runs.tsv"
for dir in ${*:-internal/pkce internal/redirecturi crypto internal/upstream internal/cimd .}; do
	case $dir in
	.)
		# Exclude every other file: subdirectories, then the root's other files.
		set -- --timeout-coefficient 3 --exclude-files '/'
		for f in *.go; do
			case " $ROOT_FILES " in *" $f "*) ;; *) set -- "$@" --exclude-files "^$f\$" ;; esac
		done
		run . "$ROOT_TESTS" "$@"
		;;
	*)
		# A small package's tests take a second; compiling a mutant takes
		# longer than the timed coverage run, hence the large coefficient.
		run "$dir" "" --timeout-coefficient 30
		;;
	esac
done
go run ./internal/tools/mutationreport -equivalents "$EQUIVALENTS" "$OUT/runs.tsv"
