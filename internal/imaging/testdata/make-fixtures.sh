#!/bin/sh
# Makes the fixtures that come from reference encoders rather than from this
# package's tests: JPEGs written by libjpeg-turbo's cjpeg/jpegtran in the
# variants phones and editors produce, and a lossy WebP from libwebp.
# Needs: apt-get install libjpeg-turbo-progs webp
# Source picture: gps.jpg (itself written by `go test -run TestGolden -update`).
# All outputs are cropped to 61×45 so partial MCUs are exercised.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
djpeg -ppm gps.jpg > "$tmp/src.ppm"

crop() { jpegtran -copy none -crop 61x45+0+0 "$1" > "$2"; }

cjpeg -quality 85 -sample 2x2 "$tmp/src.ppm" > "$tmp/a.jpg"; crop "$tmp/a.jpg" ref-420.jpg
cjpeg -quality 85 -sample 2x1 "$tmp/src.ppm" > "$tmp/a.jpg"; crop "$tmp/a.jpg" ref-422.jpg
cjpeg -quality 85 -sample 1x2 "$tmp/src.ppm" > "$tmp/a.jpg"; crop "$tmp/a.jpg" ref-440.jpg
cjpeg -quality 92 -sample 1x1 "$tmp/src.ppm" > "$tmp/a.jpg"; crop "$tmp/a.jpg" ref-444.jpg
cjpeg -quality 85 -grayscale "$tmp/src.ppm" > "$tmp/a.jpg"; crop "$tmp/a.jpg" ref-gray.jpg
# Restart marker every 3 MCUs.
cjpeg -quality 85 "$tmp/src.ppm" > "$tmp/a.jpg"
jpegtran -copy none -crop 61x45+0+0 -restart 3B "$tmp/a.jpg" > ref-restart.jpg
# Baseline, one scan per component (non-interleaved).
printf '0;\n1;\n2;\n' > "$tmp/scans"
cjpeg -quality 85 -scans "$tmp/scans" "$tmp/src.ppm" > "$tmp/a.jpg"
jpegtran -copy none -crop 61x45+0+0 -scans "$tmp/scans" "$tmp/a.jpg" > ref-scans.jpg
# Progressive and arithmetic-coded: left to image/jpeg / refused.
cjpeg -quality 85 -progressive "$tmp/src.ppm" > "$tmp/a.jpg"
jpegtran -copy none -crop 61x45+0+0 -progressive "$tmp/a.jpg" > ref-progressive.jpg
cjpeg -quality 85 -arithmetic "$tmp/src.ppm" > ref-arithmetic.jpg
# Optimized Huffman tables (codes longer than the fast lookup).
cjpeg -quality 100 -optimize -sample 1x1 "$tmp/src.ppm" > "$tmp/a.jpg"; crop "$tmp/a.jpg" ref-optimized.jpg

cwebp -quiet -q 80 "$tmp/src.ppm" -o ref-lossy.webp
