#!/usr/bin/env bash
# Redraws the app mark (a speech bubble with a phone handset) and regenerates every icon size
# from it. Needs ImageMagick (`convert`), python3 and npx (runs the Tauri CLI, offline after the
# first download). Usage: bash scripts/make-icons.sh
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The handset's handle: a cubic Bézier drawn as overlapping discs (ImageMagick closes stroked
# paths, so a stroked curve grows a chord).
handle=$(python3 -c "
p0,p1,p2,p3=(405,345),(365,495),(500,630),(655,620)
out=[]
for i in range(101):
    t=i/100; u=1-t
    x=u**3*p0[0]+3*u*u*t*p1[0]+3*u*t*t*p2[0]+t**3*p3[0]
    y=u**3*p0[1]+3*u*u*t*p1[1]+3*u*t*t*p2[1]+t**3*p3[1]
    out.append('circle %.1f,%.1f %.1f,%.1f' % (x, y, x + 36, y))
print(' '.join(out))")

convert -size 1024x1024 gradient:'#19b5a5-#0b6259' \
    \( -size 1024x1024 xc:black -fill white -draw "roundrectangle 40,40 984,984 220,220" \) \
    -alpha off -compose CopyOpacity -composite "$work/bg.png"
convert "$work/bg.png" -fill white -stroke none \
    -draw "roundrectangle 190,200 834,700 160,160" -draw "polygon 290,640 240,860 490,690" \
    -fill '#0f766e' -draw "$handle" \
    -draw "translate 415,322 rotate -12 roundrectangle -72,-46 72,46 40,40" \
    -draw "translate 675,612 rotate 80 roundrectangle -72,-46 72,46 40,40" \
    -depth 8 "$repo/icons/source.png"

# 32x32, 128x128, 128x128@2x (256), icon.png (512), icon.ico, icon.icns and the store logos.
if ! npx --yes @tauri-apps/cli@2 icon "$repo/icons/source.png" --output "$repo/icons" \
    >"$work/icon.log" 2>&1; then
    cat "$work/icon.log" >&2
    exit 1
fi
convert "$repo/icons/source.png" -resize 256x256 -depth 8 "$repo/icons/256x256.png"
convert "$repo/icons/source.png" -resize 512x512 -depth 8 "$repo/icons/512x512.png"
# Mobile targets are not built; keep the folder to desktop sizes.
rm -rf "$repo/icons/android" "$repo/icons/ios"
