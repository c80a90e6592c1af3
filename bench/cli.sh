#!/usr/bin/env bash
# A warm `keyhole-cli call` against `curl` with the same URL and the same access token, measured in
# the same run (called by scripts/bench; runs alone as `bash bench/cli.sh`). Prints the median wall
# and CPU time of each over BENCH_CLI_PAIRS pairs (default 15, alternating which goes first), their
# ratio, the provider requests the warm calls made (target 0), and for scale where a warm run's time
# goes: process start (`keyhole-cli --version`), one keychain read (`secret-tool lookup`), the request
# (curl). Starts its own sandbox, and its own D-Bus session with gnome-keyring unless
# KEYHOLE_BENCH_DBUS is set. Writes target/bench/cli.json.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }
pairs=${BENCH_CLI_PAIRS:-15}
[[ $pairs =~ ^[1-9][0-9]*$ ]] || die "BENCH_CLI_PAIRS must be a positive integer (got '$pairs')"
for tool in curl node secret-tool dbus-run-session gnome-keyring-daemon; do
  command -v $tool >/dev/null || die "$tool not found (scripts/setup test installs it)"
done

if [ -z "${KEYHOLE_BENCH_DBUS:-}" ]; then
  export KEYHOLE_BENCH_DBUS=1
  exec dbus-run-session -- bash -c 'h=$(mktemp -d); printf "bench\n" | HOME=$h XDG_DATA_HOME=$h gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null 2>&1; exec bash "$0"' "$0"
fi

export PATH="$HOME/.cargo/bin:$PATH"
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  say "Building keyhole-cli (release)"
  cargo build --release --locked -p keyhole-cli >&2
fi
target=${CARGO_TARGET_DIR:-$root/target}
case $target in /*) ;; *) target=$root/$target ;; esac
cli=$target/release/keyhole-cli
[ -x "$cli" ] || die "$cli is missing (run without BENCH_NO_BUILD)"

work=$(mktemp -d)
sandbox_pid=""
cleanup() { [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
(cd sandbox && exec node sandbox.mjs >"$work/ready" 2>"$work/sandbox.log") &
sandbox_pid=$!
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
read -r ready <"$work/ready" || die "the sandbox did not start: $(tail -3 "$work/sandbox.log")"
json() { node -e 'const o=JSON.parse(process.argv[1]); console.log(process.argv[2].split(".").reduce((v,k)=>v[k],o))' "$1" "$2"; }
issuer=$(json "$ready" issuer)
client=$(json "$ready" client_id)
api=$(json "$ready" api.lax)
stats=$(json "$ready" stats)
export KEYHOLE_KEYCHAIN_SERVICE=dev.keyhole.bench.$$
args=(--instance "$issuer" --client-id "$client")

say "Signing in once (sandbox at $issuer)"
"$cli" sign-in "${args[@]}" --browser-command "node $root/sandbox/login-http.mjs --login user_2bench" >/dev/null 2>&1 \
  || die "the sign-in failed"
record=$(secret-tool lookup service "$KEYHOLE_KEYCHAIN_SERVICE" username "$client@$issuer") \
  || die "the session record is not in the keychain"
token=$(json "$record" access_token)
# The token goes to curl through a file, never on a command line or in the output.
printf 'header = "Authorization: Bearer %s"\n' "$token" >"$work/curl.conf"
chmod 600 "$work/curl.conf"
unset token record

TIMEFORMAT='%R %U %S'
# Prints "wall cpu" in ms for one run of the command.
measure() {
  local t
  t=$( { time "$@" >/dev/null 2>&1; } 2>&1 ) || die "failed: $1"
  awk '{ printf "%.2f %.2f\n", $1 * 1000, ($2 + $3) * 1000 }' <<<"$t"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
curl_call() { curl -sS --fail -K "$work/curl.conf" -H 'Accept: application/json' "$api"; }
cli_call() { "$cli" call "${args[@]}" --api-url "$api" --browser-command false; }

curl_call >/dev/null 2>&1 && cli_call >/dev/null 2>&1 || die "a warm-up call failed"
before=$(curl -s "$stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).requests))')
: >"$work/curl" ; : >"$work/cli"
for i in $(seq "$pairs"); do
  if (( i % 2 )); then measure curl_call >>"$work/curl"; measure cli_call >>"$work/cli"
  else measure cli_call >>"$work/cli"; measure curl_call >>"$work/curl"; fi
done
after=$(curl -s "$stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).requests))')
: >"$work/start"; : >"$work/keychain"
for _ in $(seq "$pairs"); do
  measure "$cli" --version >>"$work/start"
  measure secret-tool lookup service "$KEYHOLE_KEYCHAIN_SERVICE" username "$client@$issuer" >>"$work/keychain"
done
"$cli" sign-out "${args[@]}" >/dev/null 2>&1 || true

col() { cut -d' ' -f"$2" "$work/$1" | median; }
cw=$(col curl 1); cc=$(col curl 2); kw=$(col cli 1); kc=$(col cli 2)
sw=$(col start 1); xw=$(col keychain 1)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mkdir -p "$target/bench"
{
  echo "Warm call, $pairs pairs on $api (median):"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "curl with the same token" "$cw" "$cc"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "keyhole-cli call" "$kw" "$kc"
  printf '  %-26s %8s× wall  %8s× CPU   (target ≤ 1.5× wall)\n' "ratio" "$(ratio "$kw" "$cw")" "$(ratio "$kc" "$cc")"
  echo "  provider requests during the $pairs warm calls: $((after - before)) (target 0)"
  echo "  for scale: keyhole-cli --version ${sw} ms, secret-tool lookup ${xw} ms, curl's request ${cw} ms"
} | tee "$target/bench/cli-summary.txt"
cat >"$target/bench/cli.json" <<JSON
{"pairs": $pairs, "curl": {"wall_ms": $cw, "cpu_ms": $cc}, "keyhole_cli": {"wall_ms": $kw, "cpu_ms": $kc},
 "ratio_wall": $(ratio "$kw" "$cw"), "ratio_cpu": $(ratio "$kc" "$cc"), "provider_requests": $((after - before)),
 "version_wall_ms": $sw, "secret_tool_wall_ms": $xw}
JSON
