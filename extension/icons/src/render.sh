#!/usr/bin/env bash
# Rasterises the header-button icons: every SVG here, in the palette of each theme, at 16 and 32 px,
# into ../light-theme/ and ../dark-theme/. The SVGs carry the light palette on their <style> line;
# palette-<theme>.css replaces it. Run after changing an SVG or a palette; commit the PNGs.
set -euo pipefail
cd "$(dirname "$0")"
../../../installer/debian-packages.sh librsvg2-bin
for theme in light dark; do
  out="../$theme-theme"
  mkdir -p "$out"
  palette=$(cat "palette-$theme.css")
  for svg in *.svg; do
    name=${svg%.svg}
    themed=$(sed "s|^<style>.*</style>\$|<style>$palette</style>|" "$svg")
    for size in 16 32; do
      printf '%s\n' "$themed" | rsvg-convert --width "$size" --height "$size" --format png > "$out/$name-$size.png"
    done
  done
done
echo "rendered $(ls ../light-theme ../dark-theme | grep -c png) icons"
