#!/usr/bin/env bash
# A warm `keyhole-cli call` against `curl` with the same URL and the same access token, measured in
# the same run (called by scripts/bench; runs alone as `bash bench/cli.sh`). Prints the median wall
# and CPU time of each over BENCH_CLI_PAIRS pairs (default 15, alternating which goes first), their
# ratio, the provider requests the warm calls made (target 0), and for scale where a warm run's time
# goes: process start (`keyhole-cli --version`), one keychain read (`secret-tool lookup`), the request
# (curl). Then, in the same run, the token types: (a) a warm `call --token-type session` (the stored
# Clerk session, a session token minted by each process) against a warm `--token-type oauth` call
# on the same URL (the tutorial's lax route), their ratio (target ≤ 2× wall) and the Frontend API
# requests per warm session call (target exactly 1, the mint); (b) `call --every-token-type` with
# session, oauth, api-key and m2m held (it also sends `none`: 5 requests) against the sum of the 4
# single calls' medians, their ratio (target ≤ 1.3× wall). Then MCP: a warm `mcp call` of the echo
# tool on the 2026-07-28 server against the same JSON-RPC POST with curl and the same token (target
# ≤ 1.5× wall) and the provider requests it made (target 0). Starts its own sandbox, and its own D-Bus
# session with gnome-keyring unless KEYHOLE_BENCH_DBUS is set. Writes target/bench/cli.json.
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
tutorial=$(json "$ready" api.tutorial_lax)
mcp_url=$(json "$ready" mcp.modern)
accepts_any=$(json "$ready" api.accepts)/any
bapi=$(json "$ready" bapi)
secret_key=$(json "$ready" secret_key)
machine_key=$(json "$ready" machine_secret_key)
export KEYHOLE_KEYCHAIN_SERVICE=dev.keyhole.bench.$$
args=(--instance "$issuer" --client-id "$client")

say "Signing in once (sandbox at $issuer)"
"$cli" sign-in "${args[@]}" --browser-command "node $root/sandbox/login-http.mjs --login user_2bench" >/dev/null 2>&1 \
  || die "the sign-in failed"
# The access token of the keychain's session record `$1`, for curl in config file `$2`: through a
# file, never on a command line or in the output.
token_conf() {
  local record token
  record=$(secret-tool lookup service "$KEYHOLE_KEYCHAIN_SERVICE" username "$1") \
    || die "the session record $1 is not in the keychain"
  token=$(json "$record" access_token)
  printf 'header = "Authorization: Bearer %s"\n' "$token" >"$2"
  chmod 600 "$2"
}
token_conf "$client@$issuer" "$work/curl.conf"

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

# --- the token types --------------------------------------------------------------------------
# A Clerk session (Clerk's own sign-in through the Frontend API), and the Backend API kinds: the
# keys go in on stdin, never on a command line.
say "Token types: a Clerk session, an API key and a machine key"
kargs=("${args[@]}" --backend-api "$bapi")
"$cli" sign-in "${kargs[@]}" --token-type session --browser-command "node $root/sandbox/login-http.mjs --login user_2benchsessionabcdefghijk" >/dev/null 2>&1 \
  || die "the Clerk sign-in failed"
printf '%s' "$secret_key" | "$cli" key set secret-key "${kargs[@]}" >/dev/null 2>&1 || die "key set secret-key failed"
printf '%s' "$machine_key" | "$cli" key set machine-key "${kargs[@]}" >/dev/null 2>&1 || die "key set machine-key failed"
"$cli" key create-api-key --subject user_2abcdefghijklmnopqrstuvwxyz "${kargs[@]}" >/dev/null 2>&1 || die "key create-api-key failed"
unset secret_key machine_key
kind_call() { "$cli" call "${kargs[@]}" --token-type "$1" --api-url "$2" --browser-command false; }
session_call() { kind_call session "$tutorial"; }
oauth_call() { kind_call oauth "$tutorial"; }
every_call() { "$cli" call "${kargs[@]}" --every-token-type --api-url "$accepts_any"; }
fapi_total() { curl -s "$stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(Object.values(JSON.parse(s).fapi_requests||{}).reduce((a,b)=>a+b,0)))'; }
session_call >/dev/null 2>&1 && oauth_call >/dev/null 2>&1 && every_call >/dev/null 2>&1 || die "a token-type warm-up call failed"
: >"$work/session"; : >"$work/oauth"; : >"$work/fapi"
for i in $(seq "$pairs"); do
  f0=$(fapi_total)
  if (( i % 2 )); then measure session_call >>"$work/session"; f1=$(fapi_total); measure oauth_call >>"$work/oauth"
  else measure oauth_call >>"$work/oauth"; f0=$(fapi_total); measure session_call >>"$work/session"; f1=$(fapi_total); fi
  echo $((f1 - f0)) >>"$work/fapi"
done
# (b): the matrix and the 4 single calls on the same URL, in rounds (each round: the matrix, then
# the singles, rotating the order).
: >"$work/every"; for k in session oauth api-key m2m; do : >"$work/one-$k"; done
kinds=(session oauth api-key m2m)
for i in $(seq "$pairs"); do
  measure every_call >>"$work/every"
  for j in 0 1 2 3; do k=${kinds[$(( (i + j) % 4 ))]}; measure kind_call "$k" "$accepts_any" >>"$work/one-$k"; done
done
"$cli" sign-out "${kargs[@]}" >/dev/null 2>&1 || true
for k in secret-key api-key machine-key; do "$cli" key forget "$k" "${kargs[@]}" >/dev/null 2>&1 || true; done
"$cli" sign-out "${args[@]}" >/dev/null 2>&1 || true

# --- MCP ---------------------------------------------------------------------------------------
# A warm `keyhole-cli mcp call` of the echo tool on the 2026-07-28 server against the same
# JSON-RPC POST done with curl and the same token (a warm run sends tools/call alone: the server's
# record keeps its introduction, so no server/discover first), and the provider requests the warm
# calls made (target 0).
say "MCP: signing in for $mcp_url"
"$cli" mcp tools "${args[@]}" --url "$mcp_url" --browser-command "node $root/sandbox/login-http.mjs --login user_2benchmcp" >/dev/null 2>&1 \
  || die "the MCP sign-in failed"
token_conf "$client@$issuer for $mcp_url" "$work/mcp-curl.conf"
mcp_body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"bench"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"curl","version":"1"}}}}'
mcp_curl() {
  curl -sS --fail -K "$work/mcp-curl.conf" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: echo' --data "$mcp_body" "$mcp_url"
}
mcp_cli() { "$cli" mcp call "${args[@]}" --url "$mcp_url" --browser-command false echo --args '{"text":"bench"}'; }
mcp_curl | grep -q '"bench"' && mcp_cli >/dev/null 2>&1 || die "an MCP warm-up call failed"
mcp_before=$(curl -s "$stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).requests))')
: >"$work/mcp-curl"; : >"$work/mcp-cli"
for i in $(seq "$pairs"); do
  if (( i % 2 )); then measure mcp_curl >>"$work/mcp-curl"; measure mcp_cli >>"$work/mcp-cli"
  else measure mcp_cli >>"$work/mcp-cli"; measure mcp_curl >>"$work/mcp-curl"; fi
done
mcp_after=$(curl -s "$stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).requests))')

col() { cut -d' ' -f"$2" "$work/$1" | median; }
cw=$(col curl 1); cc=$(col curl 2); kw=$(col cli 1); kc=$(col cli 2)
sw=$(col start 1); xw=$(col keychain 1)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
sum() { awk 'BEGIN { t = 0; for (i = 1; i < ARGC; i++) t += ARGV[i]; printf "%.2f", t }' "$@"; }
ssw=$(col session 1); ssc=$(col session 2); ow=$(col oauth 1); oc=$(col oauth 2)
fapi_per=$(awk '{ t += $1 } END { printf "%.2f", t / NR }' "$work/fapi")
fapi_min=$(sort -n "$work/fapi" | head -1); fapi_max=$(sort -n "$work/fapi" | tail -1)
ew=$(col every 1); ec=$(col every 2)
for k in session oauth api-key m2m; do
  eval "w_${k//-/_}=\$(col one-$k 1); c_${k//-/_}=\$(col one-$k 2)"
done
sw4=$(sum "$w_session" "$w_oauth" "$w_api_key" "$w_m2m"); sc4=$(sum "$c_session" "$c_oauth" "$c_api_key" "$c_m2m")
mw=$(col mcp-curl 1); mc=$(col mcp-curl 2); mkw=$(col mcp-cli 1); mkc=$(col mcp-cli 2)
mkdir -p "$target/bench"
{
  echo "Warm call, $pairs pairs on $api (median):"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "curl with the same token" "$cw" "$cc"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "keyhole-cli call" "$kw" "$kc"
  printf '  %-26s %8s× wall  %8s× CPU   (target ≤ 1.5× wall)\n' "ratio" "$(ratio "$kw" "$cw")" "$(ratio "$kc" "$cc")"
  echo "  provider requests during the $pairs warm calls: $((after - before)) (target 0)"
  echo "  for scale: keyhole-cli --version ${sw} ms, secret-tool lookup ${xw} ms, curl's request ${cw} ms"
  echo "Warm call by token type, $pairs pairs on $tutorial (median):"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "--token-type oauth" "$ow" "$oc"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "--token-type session" "$ssw" "$ssc"
  printf '  %-26s %8s× wall  %8s× CPU   (target ≤ 2× wall)\n' "ratio session / oauth" "$(ratio "$ssw" "$ow")" "$(ratio "$ssc" "$oc")"
  echo "  Frontend API requests per warm session call: $fapi_per (min $fapi_min, max $fapi_max; target exactly 1, the mint)"
  echo "--every-token-type, $pairs rounds on $accepts_any (median; 4 kinds held, and it also sends none: 5 requests):"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "single session" "$w_session" "$c_session"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "single oauth" "$w_oauth" "$c_oauth"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "single api-key" "$w_api_key" "$c_api_key"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "single m2m" "$w_m2m" "$c_m2m"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "sum of the 4 singles" "$sw4" "$sc4"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "--every-token-type" "$ew" "$ec"
  printf '  %-26s %8s× wall  %8s× CPU   (target ≤ 1.3× wall)\n' "ratio every / sum" "$(ratio "$ew" "$sw4")" "$(ratio "$ec" "$sc4")"
  echo "MCP tools/call of echo, $pairs pairs on $mcp_url (2026-07-28; median):"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "curl, the same POST+token" "$mw" "$mc"
  printf '  %-26s %8s ms wall  %8s ms CPU\n' "keyhole-cli mcp call" "$mkw" "$mkc"
  printf '  %-26s %8s× wall  %8s× CPU   (target ≤ 1.5× wall)\n' "ratio" "$(ratio "$mkw" "$mw")" "$(ratio "$mkc" "$mc")"
  echo "  provider requests during the $pairs warm MCP calls: $((mcp_after - mcp_before)) (target 0)"
} | tee "$target/bench/cli-summary.txt"
cat >"$target/bench/cli.json" <<JSON
{"pairs": $pairs, "curl": {"wall_ms": $cw, "cpu_ms": $cc}, "keyhole_cli": {"wall_ms": $kw, "cpu_ms": $kc},
 "ratio_wall": $(ratio "$kw" "$cw"), "ratio_cpu": $(ratio "$kc" "$cc"), "provider_requests": $((after - before)),
 "version_wall_ms": $sw, "secret_tool_wall_ms": $xw,
 "token_types": {"url": "$tutorial", "oauth": {"wall_ms": $ow, "cpu_ms": $oc}, "session": {"wall_ms": $ssw, "cpu_ms": $ssc},
  "ratio_wall": $(ratio "$ssw" "$ow"), "ratio_cpu": $(ratio "$ssc" "$oc"),
  "fapi_requests_per_session_call": $fapi_per, "fapi_requests_min": $fapi_min, "fapi_requests_max": $fapi_max},
 "every_token_type": {"url": "$accepts_any", "kinds_held": ["session", "oauth", "api-key", "m2m"], "requests_sent": 5,
  "singles": {"session": {"wall_ms": $w_session, "cpu_ms": $c_session}, "oauth": {"wall_ms": $w_oauth, "cpu_ms": $c_oauth},
   "api_key": {"wall_ms": $w_api_key, "cpu_ms": $c_api_key}, "m2m": {"wall_ms": $w_m2m, "cpu_ms": $c_m2m}},
  "sum_of_singles": {"wall_ms": $sw4, "cpu_ms": $sc4}, "every": {"wall_ms": $ew, "cpu_ms": $ec},
  "ratio_wall": $(ratio "$ew" "$sw4"), "ratio_cpu": $(ratio "$ec" "$sc4")},
 "mcp_call": {"url": "$mcp_url", "revision": "2026-07-28", "curl": {"wall_ms": $mw, "cpu_ms": $mc},
  "keyhole_cli": {"wall_ms": $mkw, "cpu_ms": $mkc}, "ratio_wall": $(ratio "$mkw" "$mw"), "ratio_cpu": $(ratio "$mkc" "$mc"),
  "provider_requests": $((mcp_after - mcp_before))}}
JSON
