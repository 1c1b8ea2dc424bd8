#!/usr/bin/env bash
# The consumer test: uses OpenVision as a stranger would. Packs every package of this repository into a local folder
# feed; in a temporary folder creates a console app with `dotnet new console`, adds OpenVision and TorchSharp-cpu from
# that feed and nuget.org only (package source mapping: the OpenVision* ids come from the feed and nowhere else; no
# project reference, no file of this repository), and reproduces the reference models' features; then installs the
# openvision tool from the same feed into a tool path and runs `models --json`, `classify` and `info` with it.
# Prints one PASS/FAIL line per check and, last, "consumer: N passed, M failed"; exits non-zero on any failure.
# Environment: OPENVISION_REFERENCE (default ../shared/reference beside the clone), OPENVISION_CONSUMER_KEEP=1 keeps
# the temporary folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reference="${OPENVISION_REFERENCE:-$root/../shared/reference}"
passed=0 failed=0
pass() { echo "PASS $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
finish() { echo "consumer: ${passed} passed, ${failed} failed"; exit $((failed == 0 ? 0 : 1)); }
if [[ ! -d "$reference/models" ]]; then
  fail "reference data: $reference/models not found (set OPENVISION_REFERENCE=/path/to/shared/reference)"; finish
fi
reference="$(cd "$reference" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/openvision-consumer.XXXXXX")"
[[ "${OPENVISION_CONSUMER_KEEP:-0}" == 1 ]] && echo "keeping $work" || trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
started=$SECONDS
step() { echo "--- $* ($((SECONDS - started)) s)"; }

step "pack into $work/feed"
feed="$work/feed"
if ! dotnet pack "$root/OpenVision.slnx" -c Release -o "$feed" -nologo -v quiet > "$work/pack.log" 2>&1; then
  tail -30 "$work/pack.log"; fail "dotnet pack OpenVision.slnx"; finish
fi
version="$(basename "$(ls "$feed"/OpenVision.[0-9]*.nupkg)" .nupkg)"; version="${version#OpenVision.}"
missing=()
for id in OpenVision OpenVision.Search OpenVision.Training OpenVision.Onnx OpenVision.Serving; do
  for ext in nupkg snupkg; do [[ -f "$feed/$id.$version.$ext" ]] || missing+=("$id.$version.$ext"); done
done
for id in OpenVision.Cli OpenVision.Cli.linux-x64; do [[ -f "$feed/$id.$version.nupkg" ]] || missing+=("$id.$version.nupkg"); done
if ((${#missing[@]})); then fail "packages in the feed: missing ${missing[*]}"; else pass "packages in the feed, version $version:"; fi
( cd "$feed" && ls -l --block-size=K ./*.nupkg ./*.snupkg | awk '{print "       " $5 "  " $9}' )
# nuget.org refuses packages over 250 MB; the tool carries libtorch, so it is the one to watch.
limit=$((250 * 1024 * 1024)) too_big=()
for f in "$feed"/*.nupkg; do (( $(stat -c %s "$f") < limit )) || too_big+=("$(basename "$f")"); done
if ((${#too_big[@]})); then fail "package sizes: over nuget.org's 250 MB limit: ${too_big[*]}"; else pass "package sizes: every package under nuget.org's 250 MB limit"; fi

step "consumer app from the feed"
# The OpenVision ids resolve from the feed only. A private packages folder keeps packages of this version that an
# earlier run left in ~/.nuget/packages from standing in for the fresh ones; other packages come from there
# (fallback folder) when present, or from nuget.org.
fallback=""
if [[ -d "$HOME/.nuget/packages" ]] && ! compgen -G "$HOME/.nuget/packages/openvision*/$version" > /dev/null; then
  fallback="<fallbackPackageFolders><add key=\"user\" value=\"$HOME/.nuget/packages\" /></fallbackPackageFolders>"
fi
cat > "$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config><add key="globalPackagesFolder" value="$work/packages" /></config>
  $fallback
  <packageSources>
    <clear />
    <add key="openvision-feed" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="openvision-feed"><package pattern="OpenVision" /><package pattern="OpenVision.*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
XML
app="$work/app"
torch_version="$(sed -n 's/.*Include="TorchSharp-cpu" Version="\([^"]*\)".*/\1/p' "$root/Directory.Packages.props")"
if dotnet new console -o "$app" -n ConsumerApp --framework net10.0 > "$work/app.log" 2>&1 &&
   (cd "$app" && dotnet add package OpenVision --version "$version" && dotnet add package TorchSharp-cpu --version "$torch_version") >> "$work/app.log" 2>&1 &&
   cp "$root/scripts/consumer/Program.cs" "$app/Program.cs" &&
   dotnet build "$app" -c Release -nologo -v quiet >> "$work/app.log" 2>&1; then
  pass "consumer app: dotnet new console + OpenVision $version + TorchSharp-cpu $torch_version from the feed builds"
else
  tail -30 "$work/app.log"; fail "consumer app: dotnet new console + OpenVision $version + TorchSharp-cpu $torch_version"; finish
fi
resolved="$(grep -o '"path": "openvision/[^"]*"' "$app/obj/project.assets.json" || true)"
if [[ "$resolved" == "\"path\": \"openvision/$version\"" && -d "$work/packages/openvision/$version" ]]; then
  pass "consumer app: OpenVision $version restored from the feed into the private packages folder"
else
  fail "consumer app: OpenVision did not come from the feed ($resolved)"
fi
out="$app/bin/Release/net10.0"
if [[ "$(uname -m)" == x86_64 && "$(uname -s)" == Linux ]]; then
  for shim in "mkl_cpu:MKL" "jpeg:JPEG" "bf16:bfloat16" "f32:float32" "f32_avx2:AVX2 float32" "pool:thread-team"; do
    file="libopenvision_${shim%%:*}.so"
    if [[ -f "$out/runtimes/linux-x64/native/$file" ]]; then pass "consumer app: the ${shim#*:} shim arrived from the package (runtimes/linux-x64/native)"
    else fail "consumer app: runtimes/linux-x64/native/$file missing from $out"; fi
  done
  # The shim must resolve libjpeg.so.62 to the copy beside it, not to the machine's (which other systems lack).
  jpeg_lib="$(ldd "$out/runtimes/linux-x64/native/libopenvision_jpeg.so" 2>&1 | sed -n 's/^\s*libjpeg\.so\.62 => \(\S*\).*/\1/p')"
  if [[ "$(realpath -m "$jpeg_lib")" == "$(realpath -m "$out/runtimes/linux-x64/native/libjpeg.so.62")" ]]; then
    pass "consumer app: the JPEG shim links the libjpeg.so.62 carried beside it"
  else fail "consumer app: the JPEG shim resolves libjpeg.so.62 to '${jpeg_lib:-nothing}', not to the package's copy"; fi
fi
step "consumer app: reference parity"
code=0; dotnet "$out/ConsumerApp.dll" parity "$reference/models" > "$work/parity.log" 2>&1 || code=$?
cat "$work/parity.log"
n=$(grep -c '^PASS' "$work/parity.log" || true); passed=$((passed + n))
n=$(grep -c '^FAIL' "$work/parity.log" || true); failed=$((failed + n))
if [[ $code -ne 0 && $n -eq 0 ]]; then fail "consumer app exited with $code"; fi

step "dotnet tool install from the feed"
tools="$work/tools"
# The feed comes from $work/nuget.config (dotnet refuses --add-source next to package source mapping).
if (cd "$work" && dotnet tool install --tool-path "$tools" OpenVision.Cli --version "$version") > "$work/tool.log" 2>&1; then
  pass "dotnet tool install OpenVision.Cli $version ($(du -sh "$tools" | cut -f1) installed)"
else
  cat "$work/tool.log"; fail "dotnet tool install OpenVision.Cli $version"; finish
fi
openvision="$tools/openvision"
model="$reference/models/openvision-vit-tiny-patch16-160"
image="$reference/preprocess/images/chelsea.png"
check_tool() { # name, output file, checker mode
  local name="$1" file="$2" mode="$3" code=0
  dotnet "$out/ConsumerApp.dll" "$mode" "$file" > "$work/$mode.log" 2>&1 || code=$?
  cat "$work/$mode.log"
  n=$(grep -c '^PASS' "$work/$mode.log" || true); passed=$((passed + n))
  n=$(grep -c '^FAIL' "$work/$mode.log" || true); failed=$((failed + n))
  if [[ $code -ne 0 && $n -eq 0 ]]; then fail "$name: checker exited with $code"; fi
}
step "openvision models --json"
if "$openvision" models --json > "$work/models.json" 2> "$work/models.err"; then check_tool models "$work/models.json" models-json
else cat "$work/models.err"; fail "openvision models --json exited non-zero"; fi
step "openvision classify"
if "$openvision" classify --model "$model" "$image" --labels "a cat" "a dog" --json > "$work/classify.json" 2> "$work/classify.err"; then
  cat "$work/classify.json"; check_tool classify "$work/classify.json" classify-json
else cat "$work/classify.err"; fail "openvision classify exited non-zero"; fi
step "openvision info"
if "$openvision" info --model "$model" > "$work/info.txt" 2>&1; then
  mkl="$(sed -n 's/^MKL dispatch *//p' "$work/info.txt")"
  # On AMD x86-64 the tool must find the shim it carries; elsewhere the line only reports.
  if [[ "$mkl" == unavailable* ]]; then fail "openvision info: MKL dispatch $mkl"; else pass "openvision info runs (MKL dispatch: ${mkl:-not reported})"; fi
  jpeg="$(sed -n 's/^JPEG decoder *//p' "$work/info.txt")"
  # On Linux x86-64 the tool carries the shim and its libjpeg-turbo, whatever libjpeg the machine has.
  if [[ "$(uname -m)" == x86_64 && "$(uname -s)" == Linux && "$jpeg" != "libjpeg-turbo"* ]]; then
    fail "openvision info: JPEG decoder ${jpeg:-not reported}, not the package's libjpeg-turbo"
  else pass "openvision info: JPEG decoder ${jpeg:-not reported}"; fi
  bf16="$(sed -n 's/^bf16 linear *//p' "$work/info.txt")"
  # Where the CPU has AVX512-BF16 the tool must run bfloat16 linear layers through the kernels it carries.
  if grep -qw avx512_bf16 /proc/cpuinfo 2>/dev/null && [[ "$bf16" != "AVX512-BF16 kernels" ]]; then
    fail "openvision info: bf16 linear ${bf16:-not reported} although the CPU has AVX512-BF16"
  else pass "openvision info: bf16 linear ${bf16:-not reported}"; fi
  threads="$(sed -n 's/^decode threads *//p' "$work/info.txt")"
  # On Linux x86-64 the tool carries the thread-team shim: batches decode on libtorch's threads.
  if [[ "$(uname -m)" == x86_64 && "$(uname -s)" == Linux && "$threads" != "libtorch's OpenMP threads" ]]; then
    fail "openvision info: decode threads ${threads:-not reported}, not libtorch's"
  else pass "openvision info: decode threads ${threads:-not reported}"; fi
else cat "$work/info.txt"; fail "openvision info exited non-zero"; fi
echo "--- done in $((SECONDS - started)) s"
finish
