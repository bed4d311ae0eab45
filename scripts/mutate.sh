#!/bin/sh
# make mutate: mutation testing of the security-critical code (issue 15) with
# github.com/go-gremlins/gremlins. Gremlins mutates the covered conditionals,
# arithmetic and increments of one package at a time and runs that package's
# tests against each mutant; a mutant the tests do not notice "lived".
#
# Settings shared by every package are in .gremlins.yaml (two workers, one
# per core; see docs/mutation.md for the timings). Per package, this script
# chooses the tests (GOFLAGS=-run=..., which gremlins' go test calls inherit)
# and, for the root package, the files to mutate. Every go test runs with
# -vet=off: go test would otherwise vet the mutated package and its tests
# again for every mutant, and a mutant only vet objects to would count as
# killed without any test noticing it.
# Gremlins prints each mutant's outcome as it goes (to stderr here), so a
# long run can be followed and its survivors worked on before it ends.
#
# Usage: scripts/mutate.sh [package dir ...]   (default: all of them)
# Writes one gremlins JSON result per package to $MUTATE_OUT and the report
# (the format of docs/mutation-report.md) to stdout.
set -eu

GREMLINS=${GREMLINS:-"go run github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0"}
OUT=${MUTATE_OUT:-${TMPDIR:-/tmp}/oauthproxy-mutate}
EQUIVALENTS=docs/mutation-equivalent.md
cd "$(dirname "$0")/.."
mkdir -p "$OUT"

# The root package: only the files of the authorization (with the redirect to
# the provider), consent (with the signatures of its cookies), callback,
# token, refresh, revocation and bearer paths and the JWT code, in three
# groups, each with the tests that exercise it (one line each: files, then
# the go test -run regexp). Each group is its own gremlins run and report
# row, so a run cut short keeps the groups it finished.
ROOT_GROUPS=${MUTATE_ROOT_GROUPS:-"\
jwt.go,jwt_claims.go,claims_encoded.go,bearer.go TestJWT|TestIdentityClaims|TestSecurity_S07|TestSecurity_S10|TestSecurity_S16|TestSecurity_S22_|TestMethods_VerifyAccessToken|FuzzVerifyAccessToken|FuzzClaimsDecode|TestEncodesAsItself
authorize.go,authorize_url.go,callback.go,consent.go,consent_remember.go,consent_scopes.go,cookies.go TestSecurity_S01|TestSecurity_S02|TestSecurity_S08|TestSecurity_S09|TestSecurity_S10|TestSecurity_S12|TestSecurity_S18|TestSecurity_S22|TestConsent|TestMethods_Authorize|TestMethods_Consent|TestMethods_HandleCallback|TestUpstreamAuthorizationURL|TestSign_
token.go,refresh.go,revoke.go TestSecurity_S03|TestSecurity_S04|TestSecurity_S05|TestSecurity_S06|TestSecurity_S07|TestSecurity_S13|TestSecurity_S14|TestSecurity_S22|TestMethods_Exchange|TestMethods_RevokeToken|TestContext_CancelledRedemptionKeepsTheCode|TestFlow|FuzzTokenRequest"}

run() { # run <dir> <go test -run regexp or ""> <label> [gremlins flags...]
	dir=$1 tests=$2 label=$3
	shift 3
	name=$(echo "$dir $label" | tr '/., ' '____')
	flags="-count=1 -vet=off"
	[ -n "$tests" ] && flags="$flags -run=$tests"
	echo "gremlins: $dir (GOFLAGS=$flags $*)" >&2
	path=./$dir
	[ "$dir" = . ] && path=.
	GOFLAGS="$flags" $GREMLINS unleash --output "$OUT/$name.json" "$@" "$path" >&2 || true
	[ -s "$OUT/$name.json" ] || { echo "gremlins produced no result for $dir" >&2; exit 1; }
	# The command as run; the root's long list of --exclude-files is shortened.
	cmd=$(echo "GOFLAGS='$flags' gremlins unleash $* $path" | sed -E "s/( --exclude-files \^[^ ]*)+/ --exclude-files '^<each other root file>\$'/")
	printf '%s\t%s\t%s\n' "$dir${label:+ ($label)}" "$cmd" "$OUT/$name.json" >>"$OUT/runs.tsv"
}

: >"$OUT/runs.tsv"
for dir in ${*:-internal/pkce internal/redirecturi crypto internal/upstream internal/cimd .}; do
	case $dir in
	.)
		echo "$ROOT_GROUPS" | while read -r group tests; do
			[ -n "$group" ] || continue
			# Exclude every other file: subdirectories, then the root's other files.
			set -- --timeout-coefficient 3 --exclude-files '/'
			for f in *.go; do
				case ",$group,$f" in *_test.go | *",$f,"*) ;; *) set -- "$@" --exclude-files "^$f\$" ;; esac
			done
			run . "$tests" "$group" "$@"
		done
		;;
	*)
		# A small package's tests take a second; compiling a mutant takes
		# longer than the timed coverage run, hence the large coefficient.
		run "$dir" "" "" --timeout-coefficient 30
		;;
	esac
done
go run ./internal/tools/mutationreport -equivalents "$EQUIVALENTS" "$OUT/runs.tsv"
